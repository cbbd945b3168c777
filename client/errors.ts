/**
 * Errors the SDK reports: every server error (stateless collaboration message, JSON socket message, SSE event, HTTP
 * body) becomes a DeckhandError carrying one of the contract's codes (shared/errors.ts).
 */
import { ERROR_CODES, HTTP_STATUS_BY_CODE, type ErrorCode, type ErrorMessage } from '../shared/errors.js';

export class DeckhandError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DeckhandError';
  }

  static fromMessage(message: ErrorMessage): DeckhandError {
    return new DeckhandError(message.error_code, message.message, message.details);
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return (ERROR_CODES as readonly unknown[]).includes(value);
}

/** True for a well-formed `{"type":"error","error_code",…,"message"}` (anything else from the wire is not trusted). */
export function isErrorMessage(value: unknown): value is ErrorMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return m.type === 'error' && isErrorCode(m.error_code) && typeof m.message === 'string';
}

/** The error code of an HTTP status (for error bodies that are not the contract's shape). */
export function codeOfStatus(status: number): ErrorCode {
  const match = ERROR_CODES.find((code) => HTTP_STATUS_BY_CODE[code] === status);
  return match ?? 'INTERNAL_ERROR';
}
