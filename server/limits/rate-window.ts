/**
 * A per-key rate limit over fixed windows: at most `max` hits per `windowMs` (e.g. chat messages per user). Counted in
 * this process (the embedded default) or in Redis, so the limit holds across instances (`{prefix}:rate:{name}:{key}`,
 * INCR and PEXPIRE in one script). When Redis does not answer, the count degrades to this instance's own (the limit
 * still holds per instance) instead of refusing or waiting.
 */
import type { Redis } from 'ioredis';

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

export interface RateWindow {
  readonly max: number;
  readonly windowMs: number;
  /** Counts one hit for `key`; refused (with the time until the window ends) past `max` in the window. Never rejects. */
  hit(key: string): Promise<RateDecision>;
}

export interface RateWindowOptions {
  /** What is limited (part of the Redis key), e.g. `chat`. */
  name: string;
  max: number;
  windowMs: number;
}

export class MemoryRateWindow implements RateWindow {
  readonly max: number;
  readonly windowMs: number;
  private readonly windows = new Map<string, { count: number; endsAt: number }>();
  private lastSweep = 0;

  constructor(options: RateWindowOptions) {
    this.max = options.max;
    this.windowMs = options.windowMs;
  }

  async hit(key: string): Promise<RateDecision> {
    return this.hitNow(key);
  }

  hitNow(key: string, now = Date.now()): RateDecision {
    this.sweep(now);
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      window = { count: 0, endsAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return window.count <= this.max ? { ok: true } : { ok: false, retryAfterMs: window.endsAt - now };
  }

  /** Forgets ended windows (at most once a window), so idle keys do not pile up. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}

const HIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`;

interface RateCommands {
  deckhandRateHit(key: string, windowMs: number): Promise<[number, number]>;
}

const TIMEOUT_MS = 500;

export class RedisRateWindow implements RateWindow {
  readonly max: number;
  readonly windowMs: number;
  private readonly redis: Redis & RateCommands;
  private readonly fallback: MemoryRateWindow;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly options: RateWindowOptions,
  ) {
    this.max = options.max;
    this.windowMs = options.windowMs;
    this.fallback = new MemoryRateWindow(options);
    const commands = redis as Redis & RateCommands;
    if (!(commands as unknown as Record<string, unknown>).deckhandRateHit)
      commands.defineCommand('deckhandRateHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.redis = commands;
  }

  async hit(key: string): Promise<RateDecision> {
    if (this.redis.status !== 'ready') return this.fallback.hit(key);
    let timer: NodeJS.Timeout | undefined;
    try {
      const [count, ttl] = await Promise.race([
        this.redis.deckhandRateHit(`${this.prefix}:rate:${this.options.name}:${encodeURIComponent(key)}`, this.windowMs),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('redis did not answer')), TIMEOUT_MS))),
      ]);
      return count <= this.max ? { ok: true } : { ok: false, retryAfterMs: Math.max(0, Number(ttl)) };
    } catch {
      return this.fallback.hit(key);
    } finally {
      clearTimeout(timer);
    }
  }
}

export function createRateWindow(options: RateWindowOptions, redis: Redis | undefined, prefix: string): RateWindow {
  return redis ? new RedisRateWindow(redis, prefix, options) : new MemoryRateWindow(options);
}
