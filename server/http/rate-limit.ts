/**
 * The HTTP rate limit on every HTTP request (../limits/http-rate-limit.ts: the counts, keys and window): one global
 * onRequest hook, registered after the response headers' hook (./response-headers.ts: security headers, CORS, and
 * preflights, which are answered there and so not counted) and before every route's own hooks. So a request is
 * counted BEFORE authentication (a flood of bad tokens is limited too) and before its body is read, and so is the 404
 * of an unknown route. A route opts out with `config: { rateLimit: false }` (health and readiness, which take no token).
 *
 * Every counted answer carries `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (seconds until
 * the window ends); past the limit the answer is 429 RATE_LIMIT_EXCEEDED "rate limit exceeded, retry in 1 minute"
 * with `retry-after` (seconds), and the route's own hooks do not run. These are @fastify/rate-limit's headers and
 * wording, which this replaces: its hook ran after each route's own hooks, and cost two promises, a closure and a
 * result object per request.
 *
 * Synchronous whenever the count is (no promise, no async function on that path); it waits only for a count that
 * waits for Redis.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import { errorMessage } from '../../shared/errors.js';
import { type HttpRateLimit, type RateCount, secondsLeft } from '../limits/index.js';
import { statusOf } from './errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The HTTP rate limit (registerHttpRateLimit), for what counts against it outside Fastify's routes. */
    httpRateLimit?: HttpRateLimit;
  }
  interface FastifyContextConfig {
    /** `false`: the route is not rate limited (its path must be static). */
    rateLimit?: false;
  }
}

/**
 * "1 minute", "30 seconds", …: when to retry, as @fastify/rate-limit worded it (@lukeed/ms's long format, rounded to
 * the nearest unit; windows are at most a day).
 */
export function retryText(seconds: number): string {
  if (seconds < 1) return `${seconds * 1000} ms`;
  const [amount, unit] =
    seconds < 60
      ? [seconds, 'second']
      : seconds < 3600
        ? [seconds / 60, 'minute']
        : seconds < 86_400
          ? [seconds / 3600, 'hour']
          : [seconds / 86_400, 'day'];
  const n = Number.isInteger(amount) ? amount : Math.floor(amount + 0.5);
  return `${n} ${unit}${n !== 1 ? 's' : ''}`;
}

/**
 * The routes that opt out. Their paths are static (checked at start-up), so a request is first matched by its path
 * (cheap), and only then by its route's config (which Fastify builds an object for on every read): a path that
 * reaches such a route in another spelling (percent-encoded) is counted, never the other way round.
 */
class Unlimited {
  private readonly paths = new Set<string>();

  add(route: RouteOptions): void {
    const setting: unknown = route.config?.rateLimit;
    if (setting === undefined) return;
    if (setting !== false) throw new Error(`route ${route.method} ${route.url}: config.rateLimit may only be false (not limited)`);
    if (/[:*]/.test(route.url)) throw new Error(`route ${route.url}: only a route with a static path may opt out of the HTTP rate limit`);
    this.paths.add(route.url);
  }

  has(request: FastifyRequest): boolean {
    if (this.paths.size === 0) return false;
    const url = request.url;
    const q = url.indexOf('?');
    if (!this.paths.has(q < 0 ? url : url.slice(0, q))) return false;
    return request.routeOptions.config?.rateLimit === false;
  }
}

/** Limits every request from now on (but those of routes that opt out); decorates `app.httpRateLimit`. */
export function registerHttpRateLimit(app: FastifyInstance, limit: HttpRateLimit): void {
  app.decorate('httpRateLimit', limit);
  const unlimited = new Unlimited();
  app.addHook('onRoute', (route) => unlimited.add(route));
  const maxText = String(limit.max);

  const answer = (count: RateCount, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const exceeded = limit.exceeded(count);
    const seconds = secondsLeft(count);
    reply.header('x-ratelimit-limit', maxText);
    reply.header('x-ratelimit-remaining', exceeded ? '0' : String(limit.max - count.current));
    reply.header('x-ratelimit-reset', String(seconds));
    if (!exceeded) {
      done();
      return;
    }
    reply.header('retry-after', String(seconds));
    reply.code(statusOf('RATE_LIMIT_EXCEEDED')).send(errorMessage('RATE_LIMIT_EXCEEDED', `rate limit exceeded, retry in ${retryText(seconds)}`));
  };

  app.addHook('onRequest', (request, reply, done) => {
    if (unlimited.has(request)) {
      done();
      return;
    }
    const count = limit.count(request.ip ?? '');
    if (count instanceof Promise) {
      void count.then((c) => answer(c, reply, done));
      return;
    }
    answer(count, reply, done);
  });
}
