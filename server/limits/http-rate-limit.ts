/**
 * The HTTP rate limit: at most HTTP_RATE_LIMIT_MAX requests per HTTP_RATE_LIMIT_WINDOW_MS per client (a fixed window
 * from the client's first request), keyed by its address (./client-key.ts). Counted by ./http-rate-sync.ts (in this
 * process, shared through Redis in the background; its tolerance is stated there) when REDIS_URL is set, else by
 * ./local-rate-counts.ts. Applied to HTTP requests by ../http/rate-limit.ts and to JSON socket upgrades by
 * ../streaming/upgrade.ts.
 *
 * A count is synchronous whenever the counts answer synchronously (always without Redis; with Redis, unless this
 * instance's total for the key is stale and it waits for a round). A count that fails lets the request through
 * (`current` 0), as @fastify/rate-limit's `skipOnError` did.
 */
import { ClientKeys } from './client-key.js';

/** A key's requests in its current window (this one included), and the ms until the window ends. */
export interface RateCount {
  current: number;
  ttl: number;
}

/**
 * Whole seconds until the window ends, rounded up (`x-ratelimit-reset`, `retry-after`). The ms are differences of
 * performance.now() values, and `(now + window) - now` can exceed the window by a rounding error: without the
 * allowance a fresh 60 s window read 61.
 */
export function secondsLeft(count: RateCount): number {
  return Math.max(0, Math.ceil(count.ttl / 1000 - 1e-6));
}

/** Where requests are counted. */
export interface RateCounts {
  incr(key: string, windowMs: number): RateCount | Promise<RateCount>;
}

/** What a count that failed answers: not counted, nothing left to wait for. */
const NOT_COUNTED: RateCount = Object.freeze({ current: 0, ttl: 0 });

export class HttpRateLimit {
  private readonly keys = new ClientKeys();

  constructor(
    private readonly counts: RateCounts,
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** Counts one request from `ip` (the socket's remote address). */
  count(ip: string): RateCount | Promise<RateCount> {
    let result: RateCount | Promise<RateCount>;
    try {
      result = this.counts.incr(this.keys.of(ip), this.windowMs);
    } catch {
      return NOT_COUNTED;
    }
    return result instanceof Promise ? result.catch(() => NOT_COUNTED) : result;
  }

  /** The request that got `count` is over the limit (the `max`th request in a window is still allowed). */
  exceeded(count: RateCount): boolean {
    return count.current > this.max;
  }
}
