/**
 * The SSE id of a stream that follows several channels (notifications): the position (bus event id) of every
 * channel, as base64url JSON. `Last-Event-ID` brings it back, so each channel resumes where it was.
 */
const MAX_CURSOR_LENGTH = 8192;
const MAX_CHANNELS = 64;

export function encodeCursor(positions: ReadonlyMap<string, string>): string {
  return Buffer.from(JSON.stringify(Object.fromEntries(positions))).toString('base64url');
}

/** The positions in a cursor; null when it is not one (then the stream starts with a reset). */
export function decodeCursor(text: string): Map<string, string> | null {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_CHANNELS || entries.some(([, v]) => typeof v !== 'string' || v.length > 64)) return null;
  return new Map(entries as [string, string][]);
}
