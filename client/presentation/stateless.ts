/**
 * The stateless messages the server sends on a document's collaboration connection (shared/locks.ts): the lock
 * table (`locks`, on join), its changes (`locks_changed`) and errors (`error`: LOCKED, PERMISSION_DENIED,
 * AUTHENTICATION_FAILED…). Validated before use.
 */
import { isSlideId, type SlideLock } from '../../shared/locks.js';
import { DeckhandError, isErrorMessage } from '../errors.js';

export type StatelessMessage =
  | { kind: 'locks'; locks: SlideLock[] }
  | { kind: 'locks_changed'; set: SlideLock[]; released: string[] }
  | { kind: 'error'; error: DeckhandError };

const MAX_PAYLOAD = 1024 * 1024;

function isSlideLock(value: unknown): value is SlideLock {
  if (typeof value !== 'object' || value === null) return false;
  const lock = value as Record<string, unknown>;
  return (
    isSlideId(lock.slide_id) &&
    typeof lock.user_id === 'string' &&
    typeof lock.name === 'string' &&
    typeof lock.color === 'string' &&
    typeof lock.expires_at === 'string' &&
    typeof lock.acquired_at === 'string'
  );
}

/** The message in a stateless payload, or null for anything else (other extensions' messages, garbage). */
export function parseStateless(payload: string): StatelessMessage | null {
  if (payload.length > MAX_PAYLOAD) return null;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  if (isErrorMessage(value)) return { kind: 'error', error: DeckhandError.fromMessage(value) };
  const message = value as { type?: unknown; locks?: unknown; set?: unknown; released?: unknown } | null;
  if (message?.type === 'locks' && Array.isArray(message.locks) && message.locks.every(isSlideLock)) {
    return { kind: 'locks', locks: message.locks };
  }
  if (
    message?.type === 'locks_changed' &&
    Array.isArray(message.set) &&
    message.set.every(isSlideLock) &&
    Array.isArray(message.released) &&
    message.released.every(isSlideId)
  ) {
    return { kind: 'locks_changed', set: message.set, released: message.released };
  }
  return null;
}

/** The codes the server answers a lock or unlock request with when it refuses it (shared/locks.ts). */
const LOCK_REFUSALS: ReadonlySet<string> = new Set(['LOCKED', 'PERMISSION_DENIED', 'NOT_FOUND', 'RATE_LIMIT_EXCEEDED']);

/**
 * The slide of a lock or unlock request the error answers, or null when it answers none. An answer names its one
 * slide in `details.slide_id`; a refusal notice for an edit (`details.refused`, its slides in `details.slide_ids`)
 * says nothing about a lock request, even for the same slide and with the same code (LOCKED).
 */
export function lockAnswerSlideOf(error: DeckhandError): string | null {
  const details = error.details as { slide_id?: unknown; refused?: unknown } | undefined;
  if (!LOCK_REFUSALS.has(error.code) || details?.refused !== undefined) return null;
  return isSlideId(details?.slide_id) ? details.slide_id : null;
}
