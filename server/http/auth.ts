/**
 * HTTP authentication: hooks (onRequest, so before the body is read) that verify the JWT and set the principal. They
 * are synchronous (`done`): an async hook costs a promise and a microtask turn on every request.
 */
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
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
export function requireUser(verifier: TokenVerifier, options?: { remember?: boolean }): onRequestHookHandler {
  return (request, _reply, done) => {
    try {
      request.principal = authenticate(verifier, request, options);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  };
}

/** A service token with `scope` (or `admin`). */
export function requireScope(verifier: TokenVerifier, scope: Scope): onRequestHookHandler {
  const denied = `this route needs a token with scope ${scope}`;
  return (request, _reply, done) => {
    let principal: Principal;
    try {
      principal = authenticate(verifier, request);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (!hasScope(principal, scope)) {
      done(new DomainError('PERMISSION_DENIED', denied));
      return;
    }
    request.principal = principal;
    done();
  };
}

/** The principal set by requireUser / requireScope. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new DomainError('AUTHENTICATION_FAILED', 'not authenticated');
  return request.principal;
}
