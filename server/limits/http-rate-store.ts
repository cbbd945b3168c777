/**
 * The HTTP rate limit's store (@fastify/rate-limit `store`) when REDIS_URL is set: counted in this process, shared
 * through Redis in the background, so a request never waits for Redis.
 *
 * Same limit as a Redis-only store (a fixed window of HTTP_RATE_LIMIT_WINDOW_MS per key, at most HTTP_RATE_LIMIT_MAX
 * requests in it, counted across instances), with this tolerance: every HTTP_RATE_LIMIT_SYNC_MS (default 100 ms) each
 * instance adds what it counted to the key's Redis counter and learns the total (one pipelined INCRBY per key it
 * served in the last REFRESH_MS, with 0 for a key it counted nothing for since), and it decides each request from the
 * last total it learned plus its own requests since. So:
 * - a key is never refused before the instances together counted `max` requests;
 * - the instances together admit at most `max` plus, for each instance, the requests that reach it within one sync
 *   interval (plus a Redis round trip) after the total passed `max` (for an instance that had not served the key in
 *   the last REFRESH_MS: within its first interval). One instance alone: exactly `max`.
 * The window starts with the key's first request and is Redis's (its counter's PTTL) once synced, so every instance
 * ends it at the same time (to within a sync). Redis down: each instance counts alone (the limit holds per instance)
 * and syncs again once Redis is back; what it counted in a window that has ended meanwhile is dropped.
 * Supports the plain fixed window (not continueExceeding, exponentialBackoff or ban, which Deckhand does not use).
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

const SYNC_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {count, ttl}
`;

interface SyncCommands {
  deckhandRateSync(key: string, delta: number, windowMs: number): Promise<[number, number]>;
}

/** A key served this recently is synced every interval even without new requests here (its total kept fresh). */
const REFRESH_MS = 10_000;

interface Window {
  /** When the window ends (ms since the epoch; Redis's end once synced). */
  end: number;
  /** The last request this instance counted for the key. */
  touched: number;
  windowMs: number;
  /** The total across instances at the last sync (this instance's synced requests included). */
  synced: number;
  /** This instance's requests in a sync under way. */
  sending: number;
  /** This instance's requests since. */
  local: number;
}

type Callback = (err: Error | null, result: { current: number; ttl: number }) => void;

export interface HttpRateSyncOptions {
  redis: Redis;
  prefix: string;
  syncMs: number;
  /** Keys kept at most (least recently used dropped first; default 50,000). */
  maxKeys?: number;
}

/** The windows of every key of one app, and the background sync (shared by the route stores). */
export class HttpRateSync {
  private readonly windows = new Map<string, Window>();
  /** Keys served in the last REFRESH_MS (or with counts not sent yet): the ones each sync covers. */
  private readonly active = new Set<string>();
  private readonly redis: Redis & SyncCommands;
  private readonly timer: NodeJS.Timeout;
  private syncing = false;
  private readonly maxKeys: number;

  constructor(private readonly options: HttpRateSyncOptions) {
    const redis = options.redis as Redis & SyncCommands;
    if (!(redis as unknown as Record<string, unknown>).deckhandRateSync)
      redis.defineCommand('deckhandRateSync', { numberOfKeys: 1, lua: SYNC_SCRIPT });
    this.redis = redis;
    this.maxKeys = options.maxKeys ?? 50_000;
    this.timer = setInterval(() => void this.sync(), options.syncMs);
    this.timer.unref();
  }

  incr(key: string, windowMs: number): { current: number; ttl: number } {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || now >= w.end) {
      w = { end: now + windowMs, touched: now, windowMs, synced: 0, sending: 0, local: 0 };
    }
    this.windows.delete(key);
    this.windows.set(key, w);
    if (this.windows.size > this.maxKeys) {
      const [oldest] = this.windows.keys();
      this.windows.delete(oldest!);
      this.active.delete(oldest!);
    }
    w.local++;
    w.touched = now;
    this.active.add(key);
    return { current: w.synced + w.sending + w.local, ttl: w.end - now };
  }

  read(key: string): { current: number; ttl: number } {
    const now = Date.now();
    const w = this.windows.get(key);
    if (!w || now >= w.end) return { current: 0, ttl: 0 };
    return { current: w.synced + w.sending + w.local, ttl: w.end - now };
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Sends what each key counted since the last sync and learns the totals (one pipeline, one round at a time). */
  async sync(): Promise<void> {
    if (this.syncing || this.active.size === 0 || this.redis.status !== 'ready') return;
    const now = Date.now();
    const batch: [string, Window, number][] = [];
    for (const key of this.active) {
      const w = this.windows.get(key);
      if (!w || now >= w.end || (w.local === 0 && now - w.touched > REFRESH_MS)) {
        this.active.delete(key);
        continue;
      }
      w.sending = w.local;
      w.local = 0;
      batch.push([key, w, w.sending]);
    }
    if (batch.length === 0) return;
    this.syncing = true;
    try {
      const pipeline = this.redis.pipeline() as unknown as {
        deckhandRateSync(...args: (string | number)[]): unknown;
        exec(): Promise<[Error | null, unknown][] | null>;
      };
      for (const [key, w, delta] of batch) pipeline.deckhandRateSync(`${this.options.prefix}${key}`, delta, w.windowMs);
      const replies = (await pipeline.exec()) ?? [];
      const at = Date.now();
      batch.forEach(([key, w], i) => {
        const [err, reply] = replies[i] ?? [new Error('no reply'), null];
        if (err || !Array.isArray(reply)) return this.unsent(key, w);
        const [count, ttl] = reply as [number, number];
        w.synced = Number(count);
        w.sending = 0;
        w.end = at + Number(ttl);
      });
    } catch {
      for (const [key, w] of batch) this.unsent(key, w);
    } finally {
      this.syncing = false;
    }
  }

  /** A sync that failed: its requests count locally and go with the next sync (the window has not ended). */
  private unsent(key: string, w: Window): void {
    w.local += w.sending;
    w.sending = 0;
    if (this.windows.get(key) === w) this.active.add(key);
  }
}

/** The store class @fastify/rate-limit instantiates (`store` option), counting in `sync`. */
export function httpRateStore(sync: HttpRateSync): FastifyRateLimitStoreCtor {
  class SyncedRateStore implements FastifyRateLimitStore {
    /** `{method}{url}-` for a route with its own limit (as @fastify/rate-limit's stores key them), else ''. */
    route = '';

    incr(key: string, callback: Callback, windowMs: number): void {
      callback(null, sync.incr(this.route + key, windowMs));
    }

    read(key: string, callback: Callback): void {
      callback(null, sync.read(this.route + key));
    }

    child(routeOptions: unknown): FastifyRateLimitStore {
      // At run time @fastify/rate-limit passes the merged limit options, with the route under `routeInfo`.
      const info = (routeOptions as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? {};
      const store = new SyncedRateStore();
      store.route = `${String(info.method ?? '')}${String(info.url ?? '')}-`;
      return store;
    }
  }
  return SyncedRateStore;
}
