/**
 * `@user_id` mentions in comment text: `@` at the start or after anything but a word character (so `ann@example`
 * is not one), then the id: letters, digits and `_ . : -`, starting with a letter, digit or `_` (trailing `.`, `:`
 * and `-` are punctuation, not part of the id). At most MAX_MENTIONS distinct ids per comment.
 */
export const MAX_MENTIONS = 20;

const MENTION = /(?<![\w@])@([A-Za-z0-9_][A-Za-z0-9_.:-]{0,255})/g;

export function mentionedUserIds(text: string): string[] {
  const ids = new Set<string>();
  for (const match of text.matchAll(MENTION)) {
    const id = match[1]!.replace(/[.:-]+$/, '');
    if (id) ids.add(id);
    if (ids.size >= MAX_MENTIONS) break;
  }
  return [...ids];
}
