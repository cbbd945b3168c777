/**
 * CORS for HTTP answers (CORS_ORIGINS), as @fastify/cors answered with Deckhand's options (`origin`: the allowlist,
 * or any origin for `*`; `credentials: true`; its defaults otherwise), which this replaces so that the headers of an
 * answer are decided once per distinct Origin instead of on every request (./response-headers.ts):
 * - every answer: `Vary: Origin`, `Access-Control-Allow-Credentials: true`, and `Access-Control-Allow-Origin` with
 *   the request's Origin when it is allowed (CORS_ORIGINS `*`: any non-empty Origin). A list that contains `*` among
 *   other origins answers `Access-Control-Allow-Origin: *` to every request, without `Vary`, as @fastify/cors did;
 * - a preflight (OPTIONS) is answered here, before authentication and the rate limit: 400 `Invalid Preflight Request`
 *   without an Origin or an Access-Control-Request-Method, else 204 with `Access-Control-Allow-Methods: GET,HEAD,POST`
 *   and the requested headers allowed (`Access-Control-Request-Headers`, added to Vary).
 * WebSocket upgrades and SSE streams check the Origin themselves (./origin.ts: a foreign one is refused).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Methods a preflight allows (@fastify/cors's default). */
const PREFLIGHT_METHODS = 'GET,HEAD,POST';

export class CorsPolicy {
  /** Every answer varies by Origin (not when every origin gets `*`). */
  readonly vary: boolean;
  private readonly allowed: ReadonlySet<string> | 'any' | 'star';

  constructor(origins: readonly string[] | '*') {
    this.allowed = origins === '*' ? 'any' : origins.includes('*') ? 'star' : new Set(origins);
    this.vary = this.allowed !== 'star';
  }

  /** The Access-Control-Allow-Origin of an answer to `origin`; undefined for none. */
  allowOrigin(origin: string | undefined): string | undefined {
    if (this.allowed === 'star') return '*';
    if (!origin) return undefined;
    return this.allowed === 'any' || this.allowed.has(origin) ? origin : undefined;
  }

  /** The headers of an answer to `origin`, by lower-case name, in the order they are sent. */
  headers(origin: string | undefined): Record<string, string> {
    const allow = this.allowOrigin(origin);
    return {
      ...(this.vary ? { vary: 'Origin' } : {}),
      ...(allow === undefined ? {} : { 'access-control-allow-origin': allow }),
      'access-control-allow-credentials': 'true',
    };
  }

  /** Answers a preflight (the request's other CORS headers are already set). */
  answerPreflight(request: FastifyRequest, reply: FastifyReply): void {
    if (!request.headers.origin || !request.headers['access-control-request-method']) {
      reply.status(400).type('text/plain').send('Invalid Preflight Request');
      return;
    }
    reply.header('access-control-allow-methods', PREFLIGHT_METHODS);
    reply.header('vary', this.vary ? 'Origin, Access-Control-Request-Headers' : 'Access-Control-Request-Headers');
    const requested = request.headers['access-control-request-headers'];
    if (requested !== undefined) reply.header('access-control-allow-headers', requested);
    reply.code(204).header('content-length', '0').send();
  }
}
