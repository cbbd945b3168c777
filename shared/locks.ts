/**
 * Slide locks over the collaboration connection: one holder per slide, who alone may edit it until the lock is
 * released, expires (LOCK_TTL_MS, renewed by the holder's activity) or its holder disconnects.
 * Stateless Hocuspocus messages, JSON text:
 *   client → server  {"type":"lock_slide","slide_id":"s1"}   {"type":"unlock_slide","slide_id":"s1"}
 *   server → client  {"type":"locks","presentation_id":…,"locks":[…],"timestamp":…}   (the whole table, on join)
 *                    {"type":"locks_changed","presentation_id":…,"set":[…],"released":["s1"],"timestamp":…}
 *                      (every change after that: locks taken, moved or renewed, and slides released)
 *                    {"type":"error","error_code":"LOCKED"|"PERMISSION_DENIED"|"NOT_FOUND"|"RATE_LIMIT_EXCEEDED"|"INVALID_MESSAGE",…}
 *                      (a refused request; its slide in `details.slide_id`. Not to be confused with the write
 *                      guard's refusal notices for an edit, LOCKED among them: they carry `details.refused` and the
 *                      slides in `details.slide_ids`, and answer no lock request)
 * Only existing slides can be locked (NOT_FOUND otherwise); a user's locks per document and a document's locks are
 * capped (RATE_LIMIT_EXCEEDED).
 */
export const SLIDE_ID_PATTERN = '^[A-Za-z0-9_.:-]{1,128}$';
const slideIdRe = new RegExp(SLIDE_ID_PATTERN);

export function isSlideId(value: unknown): value is string {
  return typeof value === 'string' && slideIdRe.test(value);
}

export interface SlideLock {
  slide_id: string;
  user_id: string;
  name: string;
  color: string;
  /** ISO 8601; the lock is released then unless its holder is active (which renews it). */
  expires_at: string;
  acquired_at: string;
}

export interface LockRequest {
  type: 'lock_slide' | 'unlock_slide';
  slide_id: string;
}

export interface LocksMessage {
  type: 'locks';
  presentation_id: string;
  locks: SlideLock[];
  timestamp: string;
}

export interface LocksChangedMessage {
  type: 'locks_changed';
  presentation_id: string;
  /** Locks taken, moved to another connection or renewed (new expiry). */
  set: SlideLock[];
  /** Slide ids no longer locked. */
  released: string[];
  timestamp: string;
}

/** Parses a stateless payload into a lock request, or returns why it is not one. */
export function parseLockRequest(payload: string): LockRequest | { error: string } | null {
  if (payload.length > 4096) return { error: 'message too large' };
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return { error: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null) return { error: 'not an object' };
  const { type, slide_id: slideId } = value as Record<string, unknown>;
  if (type !== 'lock_slide' && type !== 'unlock_slide') return null;
  if (!isSlideId(slideId)) return { error: 'slide_id must be 1-128 characters of A-Z a-z 0-9 _ . : -' };
  return { type, slide_id: slideId };
}
