/**
 * Who gets a streaming connection: the Origin must be in CORS_ORIGINS (when set), the token valid, and the user under
 * the per-user connection limit for the endpoint kind. WebSockets are refused with an error message and a close code
 * (the browser API cannot see an HTTP status); SSE requests with the JSON error and its HTTP status.
 */
import type { FastifyRequest } from 'fastify';
import { CLOSE_CODES } from '../../shared/errors.js';
import type { Principal } from '../auth/jwt.js';
import { tokenFromRequest } from '../auth/request-token.js';
import { verifyToken } from '../auth/verify-token.js';
import { DomainError } from '../errors.js';
import { isOriginAllowed } from '../http/origin.js';
import type { EndpointKind } from './connection-limiter.js';
import type { StreamingContext } from './context.js';
import type { JsonSocket } from './json-socket.js';
import type { Upgrade } from './upgrade.js';

export interface Admission {
  principal: Principal;
  /** Frees the connection slot (idempotent). */
  release: () => void;
}

function limitMessage(ctx: StreamingContext, kind: EndpointKind): string {
  return `too many ${kind} connections for this user (at most ${ctx.config.limits.maxConnectionsPerUser})`;
}

/**
 * Admits a WebSocket, or refuses it (error message, then close) and resolves with null. Origin and token are checked
 * synchronously; the connection slot may take a Redis round trip. Never rejects.
 */
export async function admitSocket<M>(conn: JsonSocket<M>, upgrade: Upgrade, ctx: StreamingContext, kind: EndpointKind): Promise<Admission | null> {
  if (!isOriginAllowed(ctx.config.corsOrigins, upgrade.headers.origin)) {
    conn.fail('PERMISSION_DENIED', 'origin not allowed', CLOSE_CODES.ORIGIN_NOT_ALLOWED.code, CLOSE_CODES.ORIGIN_NOT_ALLOWED.reason);
    return null;
  }
  let principal: Principal;
  try {
    // Verified once for the connection's lifetime: not remembered (memory per connection, no repeat to save).
    principal = verifyToken(ctx.verifier, tokenFromRequest(upgrade), { remember: false });
  } catch (err) {
    const message = err instanceof DomainError ? err.message : 'invalid token';
    conn.fail('AUTHENTICATION_FAILED', message, CLOSE_CODES.AUTHENTICATION_FAILED.code, CLOSE_CODES.AUTHENTICATION_FAILED.reason);
    return null;
  }
  const release = await ctx.limiter.acquire(kind, principal.userId);
  if (!release) {
    conn.fail('RATE_LIMIT_EXCEEDED', limitMessage(ctx, kind), CLOSE_CODES.RATE_LIMIT_EXCEEDED.code, CLOSE_CODES.RATE_LIMIT_EXCEEDED.reason);
    return null;
  }
  // Closed while the slot was being taken: onClose runs the release at once.
  conn.onClose(release);
  if (!conn.isOpen) return null;
  return { principal, release };
}

/** Origin check for SSE requests (a preHandler, before authentication). */
export function checkSseOrigin(ctx: StreamingContext, request: FastifyRequest): void {
  if (!isOriginAllowed(ctx.config.corsOrigins, request.headers.origin)) throw new DomainError('PERMISSION_DENIED', 'origin not allowed');
}

/** Takes an SSE connection slot for the (already authenticated) user, or throws 429. */
export async function acquireSseSlot(ctx: StreamingContext, kind: EndpointKind, principal: Principal): Promise<() => void> {
  const release = await ctx.limiter.acquire(kind, principal.userId);
  if (!release) throw new DomainError('RATE_LIMIT_EXCEEDED', limitMessage(ctx, kind));
  return release;
}
