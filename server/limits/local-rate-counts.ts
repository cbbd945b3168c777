/**
 * The HTTP rate limit's counts without Redis: fixed windows counted in this process, as @fastify/rate-limit's
 * in-process store counted them (a key's window starts with its first request and lasts HTTP_RATE_LIMIT_WINDOW_MS;
 * at most `maxKeys` keys, the least recently counted dropped first). Times are monotonic (performance.now).
 */
import type { RateCount, RateCounts } from './http-rate-limit.js';

interface Window {
  count: number;
  end: number;
}

export class LocalRateCounts implements RateCounts {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly maxKeys = 5000) {}

  incr(key: string, windowMs: number): RateCount {
    const now = performance.now();
    let w = this.windows.get(key);
    if (w === undefined) {
      w = { count: 0, end: now + windowMs };
      if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    } else {
      // Most recently counted last (a Map iterates in insertion order).
      this.windows.delete(key);
      if (now >= w.end) {
        w.count = 0;
        w.end = now + windowMs;
      }
    }
    this.windows.set(key, w);
    w.count++;
    return { current: w.count, ttl: w.end - now };
  }
}
