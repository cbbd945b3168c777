/** HTTP authentication: hooks (onRequest, so before the body is read) that verify the JWT and set the principal. */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { hasScope, type Principal, type Scope, type TokenVerifier } from '../auth/jwt.js';
import { tokenFromRequest } from '../auth/request-token.js';
import { verifyToken } from '../auth/verify-token.js';
import { DomainError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function authenticate(verifier: TokenVerifier, request: FastifyRequest, options?: { remember?: boolean }): Principal {
  return verifyToken(verifier, tokenFromRequest(request), options);
}

/** Any valid token. */
export function requireUser(verifier: TokenVerifier, options?: { remember?: boolean }): preHandlerAsyncHookHandler {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    request.principal = authenticate(verifier, request, options);
  };
}

/** A service token with `scope` (or `admin`). */
export function requireScope(verifier: TokenVerifier, scope: Scope): preHandlerAsyncHookHandler {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const principal = authenticate(verifier, request);
    if (!hasScope(principal, scope)) throw new DomainError('PERMISSION_DENIED', `this route needs a token with scope ${scope}`);
    request.principal = principal;
  };
}

/** The principal set by requireUser / requireScope. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new DomainError('AUTHENTICATION_FAILED', 'not authenticated');
  return request.principal;
}
