/**
 * The headers every HTTP answer gets (errors and 404s included): helmet's security headers (./security-headers.ts)
 * and the CORS headers of the request's Origin (./cors.ts), set by ONE onRequest hook from a set computed once per
 * distinct Origin, instead of two hooks (helmet's headers, then @fastify/cors deciding its headers again with an
 * options object, a closure and a Vary lookup on every request: a fixed cost on every progress POST,
 * docs/performance.md). A preflight is answered by the same hook: before the rate limit (./rate-limit.ts, the next
 * global hook: a preflight is not counted) and before authentication (each route's own hooks).
 */
import type { FastifyInstance } from 'fastify';
import type { HelmetOptions } from 'helmet';
import { CorsPolicy } from './cors.js';
import { securityHeaders } from './security-headers.js';

/** Header sets remembered for this many distinct allowed Origins (with CORS_ORIGINS `*`, any Origin is allowed). */
const MAX_ORIGINS = 256;

interface HeaderSet {
  names: readonly string[];
  values: readonly string[];
}

export interface ResponseHeadersOptions {
  helmet: Readonly<HelmetOptions>;
  corsOrigins: readonly string[] | '*';
}

/** The header set of each Origin: security headers, then CORS. */
class HeaderSets {
  private readonly cors: CorsPolicy;
  private readonly security: Record<string, string>;
  /** The set of a request without an Origin, shared by every Origin that gets the same Allow-Origin (none, or `*`). */
  private readonly unlisted: HeaderSet;
  private readonly unlistedAllow: string | undefined;
  private readonly byOrigin = new Map<string, HeaderSet>();

  constructor(options: ResponseHeadersOptions) {
    this.cors = new CorsPolicy(options.corsOrigins);
    this.security = securityHeaders(options.helmet);
    this.unlisted = this.build(undefined);
    this.unlistedAllow = this.cors.allowOrigin(undefined);
  }

  get policy(): CorsPolicy {
    return this.cors;
  }

  of(origin: string | undefined): HeaderSet {
    const allow = this.cors.allowOrigin(origin);
    if (allow === this.unlistedAllow) return this.unlisted;
    const known = this.byOrigin.get(allow!);
    if (known) return known;
    const set = this.build(origin);
    if (this.byOrigin.size < MAX_ORIGINS) this.byOrigin.set(allow!, set);
    return set;
  }

  private build(origin: string | undefined): HeaderSet {
    const all = { ...this.security, ...this.cors.headers(origin) };
    return { names: Object.keys(all), values: Object.values(all) };
  }
}

export function registerResponseHeaders(app: FastifyInstance, options: ResponseHeadersOptions): void {
  const sets = new HeaderSets(options);
  const cors = sets.policy;
  app.addHook('onRequest', (request, reply, done) => {
    const { names, values } = sets.of(request.headers.origin);
    for (let i = 0; i < names.length; i++) reply.header(names[i]!, values[i]);
    if (request.raw.method === 'OPTIONS') {
      cors.answerPreflight(request, reply);
      return;
    }
    done();
  });
  // OPTIONS on any path reaches the hook above (which answers every preflight); hidden from the OpenAPI.
  app.options('*', { schema: { hide: true } }, (_request, reply) => reply.callNotFound());
}
