/** A token from any source (header, `?token=`, an `auth` message), verified; a refusal never holds the token. */
import { DomainError } from '../errors.js';
import { AuthError, type Principal, type TokenVerifier } from './jwt.js';

/** The principal of `token`; DomainError(AUTHENTICATION_FAILED) when it is missing or invalid. */
export function verifyToken(verifier: TokenVerifier, token: string | undefined, options?: { remember?: boolean }): Principal {
  if (!token) throw new DomainError('AUTHENTICATION_FAILED', 'missing token: send Authorization: Bearer <jwt> or ?token=');
  try {
    return verifier.verify(token, options);
  } catch (err) {
    throw new DomainError('AUTHENTICATION_FAILED', err instanceof AuthError ? err.message : 'invalid token');
  }
}
