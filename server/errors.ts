/**
 * Errors of the domain: a service (jobs, notifications, presentations, locks, admission) refuses with a DomainError
 * carrying one of the API's error codes (shared/errors.ts) and a message for the client. Nothing here knows HTTP: the
 * HTTP layer maps the code to a status in one place (server/http/errors.ts), and the JSON sockets send the same code
 * in an `error` message.
 */
import type { ErrorCode } from '../shared/errors.js';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
