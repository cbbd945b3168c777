/**
 * The HTTP rate limit: at most HTTP_RATE_LIMIT_MAX requests per HTTP_RATE_LIMIT_WINDOW_MS per client address (a fixed
 * window from the address's first request), on every route but those declared with `config: { rateLimit: false }`
 * (health, metrics), and on JSON socket upgrades (../streaming/upgrade.ts). One synchronous onRequest hook, added to
 * each route after the route's own hooks, so a request its authentication refuses is not counted.
 *
 * It answers as @fastify/rate-limit did with Deckhand's options (which it replaces: that plugin's hook cost two
 * promises, a closure and a result object per request, a fixed cost on every progress POST, docs/performance.md):
 * `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (seconds) on every limited answer; past the
 * limit 429 RATE_LIMIT_EXCEEDED "rate limit exceeded, retry in 1 minute" with `retry-after` (seconds). Addresses are
 * keyed as that plugin keyed them (IPv6 by its /64, IPv4-mapped IPv6 as IPv4).
 *
 * Counted by ./http-rate-store.ts (shared through Redis in the background, its tolerance stated there) when REDIS_URL
 * is set, else in this process (`LocalRateCounts`).
 */
import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { DomainError } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The HTTP rate limit (registerHttpRateLimit). */
    httpRateLimit?: HttpRateLimit;
  }
}

/** Where requests are counted: a key's requests in its current window, and the ms until the window ends. */
export interface RateCounts {
  incr(key: string, windowMs: number): { current: number; ttl: number };
}

/** Fixed windows counted in this process only (at most `maxKeys`, the least recently used dropped first). */
export class LocalRateCounts implements RateCounts {
  private readonly windows = new Map<string, { count: number; end: number }>();

  constructor(private readonly maxKeys = 5000) {}

  incr(key: string, windowMs: number): { current: number; ttl: number } {
    const now = Date.now();
    let w = this.windows.get(key);
    if (w) this.windows.delete(key);
    if (!w || now >= w.end) w = { count: 0, end: now + windowMs };
    this.windows.set(key, w);
    if (this.windows.size > this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    w.count++;
    return { current: w.count, ttl: w.end - now };
  }
}

export interface RateVerdict {
  exceeded: boolean;
  /** Requests left in the window (0 once exceeded). */
  remaining: number;
  /** Seconds until the window ends (rounded up). */
  resetSeconds: number;
}

/** IPv6 addresses as keys, remembered (parsing one is the costly part of normalizeIP). */
const IPV6_KEYS_MAX = 1000;

export class HttpRateLimit {
  private readonly ipv6Keys = new Map<string, string>();

  constructor(
    private readonly counts: RateCounts,
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** Counts one request from `ip` (the socket's remote address). */
  take(ip: string): RateVerdict {
    const { current, ttl } = this.counts.incr(this.keyOf(ip), this.windowMs);
    const exceeded = current > this.max;
    return { exceeded, remaining: exceeded ? 0 : this.max - current, resetSeconds: Math.ceil(ttl / 1000) };
  }

  /** The key of an address, as @fastify/rate-limit made it (IPv4 is its own key). */
  private keyOf(ip: string): string {
    if (!ip.includes(':')) return ip.toLowerCase();
    let key = this.ipv6Keys.get(ip);
    if (key === undefined) {
      key = normalizeIP(ip);
      if (this.ipv6Keys.size >= IPV6_KEYS_MAX) this.ipv6Keys.clear();
      this.ipv6Keys.set(ip, key);
    }
    return key;
  }
}

/** "1 minute", "30 seconds", …: when to retry, as @fastify/rate-limit words it (@lukeed/ms, long form; windows are at most a day). */
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

/** Limits every route registered from now on (but those with `config.rateLimit === false`); `app.httpRateLimit`. */
export function registerHttpRateLimit(app: FastifyInstance, limit: HttpRateLimit): void {
  app.decorate('httpRateLimit', limit);
  const maxText = String(limit.max);
  const hook: onRequestHookHandler = (request, reply, done) => {
    const verdict = limit.take(request.ip ?? '');
    const reset = String(verdict.resetSeconds);
    reply.header('x-ratelimit-limit', maxText);
    reply.header('x-ratelimit-remaining', String(verdict.remaining));
    reply.header('x-ratelimit-reset', reset);
    if (!verdict.exceeded) {
      done();
      return;
    }
    reply.header('retry-after', reset);
    done(new DomainError('RATE_LIMIT_EXCEEDED', `rate limit exceeded, retry in ${retryText(verdict.resetSeconds)}`));
  };
  app.addHook('onRoute', (route) => {
    const config = route.config as { rateLimit?: unknown } | undefined;
    if (config?.rateLimit === false) return;
    if (config?.rateLimit !== undefined) throw new Error(`route ${route.url}: only config.rateLimit = false is supported`);
    const own = route.onRequest;
    route.onRequest = own === undefined ? [hook] : Array.isArray(own) ? [...own, hook] : [own, hook];
  });
}
