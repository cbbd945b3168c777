/** Domain errors of versions: DomainErrors (the HTTP layer maps their code to a status) named for the logs. */
import type { ErrorCode } from '../../shared/errors.js';
import { DomainError } from '../errors.js';

export class VersionError extends DomainError {
  constructor(code: Extract<ErrorCode, 'NOT_FOUND' | 'LOCKED' | 'INTERNAL_ERROR'>, message: string, details?: unknown) {
    super(code, message, details);
    this.name = 'VersionError';
  }
}
