/** A refused lock acquisition as the domain error every transport answers with (REST, the JSON collaboration socket). */
import { DomainError } from '../../errors.js';
import type { AcquireResult } from './lock-store.js';

/** Throws the refusal of `result` (a cap reached, or the slide held by another user); returns when it was taken. */
export function throwIfRefused(slideId: string, result: AcquireResult): asserts result is Extract<AcquireResult, { ok: true }> {
  if (result.ok) return;
  if (result.reason === 'limit') {
    throw new DomainError('RATE_LIMIT_EXCEEDED', `at most ${result.max} locks per ${result.limit}`, {
      slide_id: slideId,
      limit: result.limit,
      max: result.max,
    });
  }
  throw new DomainError('LOCKED', `slide ${slideId} is locked by ${result.lock.name}`, {
    slide_id: slideId,
    holder: { user_id: result.lock.userId, name: result.lock.name },
  });
}
