/**
 * What the sender of a guarded update is told, as `error` stateless messages: one per error code for the parts that
 * were not applied (LOCKED with the slide ids and holders, PERMISSION_DENIED with the reasons, CONFLICT with the slide
 * ids), or one for an update refused whole. `details.refused` says which (`part` or `whole`); the sender's document
 * has diverged from the server's either way and should be resynced (the SDK does).
 */
import { errorMessage, type ErrorMessage } from '../../../shared/errors.js';
import type { RefusalCode } from './decide.js';
import type { Denial } from './rules.js';

export function refusalNotice(code: RefusalCode, reason: string): ErrorMessage {
  return errorMessage(code, `your update was refused whole and not stored: ${reason}`, { refused: 'whole', reason });
}

export function denialNotices(denials: readonly Denial[]): ErrorMessage[] {
  const byCode = new Map<Denial['code'], Denial[]>();
  for (const d of denials) byCode.set(d.code, [...(byCode.get(d.code) ?? []), d]);
  const notices: ErrorMessage[] = [];
  for (const [code, list] of byCode) {
    const reasons = [...new Set(list.map((d) => d.reason))];
    const slides = new Map<string, string | undefined>();
    for (const d of list) if (d.slideId) slides.set(d.slideId, d.holder);
    const details: Record<string, unknown> = { refused: 'part', reasons };
    if (slides.size > 0) details.slide_ids = [...slides.keys()];
    if (code === 'LOCKED') details.holders = [...slides].map(([slide_id, name]) => ({ slide_id, name: name ?? 'another user' }));
    notices.push(errorMessage(code, `${reasons.join('; ')}: those changes were not applied`, details));
  }
  return notices;
}
