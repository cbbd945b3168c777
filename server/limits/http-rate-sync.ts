/**
 * The HTTP rate limit's counts (./http-rate-limit.ts) when REDIS_URL is set: counted in this process, shared through
 * Redis in the background, so a request waits for Redis only when this instance's total for its key is stale.
 *
 * Same limit as a Redis-only store (a fixed window of HTTP_RATE_LIMIT_WINDOW_MS per key, at most HTTP_RATE_LIMIT_MAX
 * requests in it, counted across instances), with this tolerance. Each instance adds what it counted to the key's
 * Redis counter and learns the total in one round (one pipelined script call per key with counts to send): a round
 * goes out with the first request at least HTTP_RATE_LIMIT_SYNC_MS (default 100 ms) after the previous round, in that
 * request's own event-loop turn, and counts no later request came to carry go out by a timer two intervals after the
 * previous round. It decides a request from the last total it learned plus its own requests since if it learned that
 * total less than two intervals ago (always, for a key served at least once an interval: its rounds keep it fresh);
 * else (a key new here, or quiet here for two intervals) the request waits for the round of its turn, which gives it
 * its place in Redis's count (a round trip; not with Redis down, nor longer than an interval): decided on a stale
 * total, a burst pipelined to such an instance was admitted up to `max` again. Times are monotonic
 * (performance.now), so a wall-clock jump changes nothing. So:
 * - a key is never refused before the instances together counted `max` requests;
 * - each instance's counts reach Redis within one sync interval of the previous round while it serves requests, within
 *   two once they stop, and it learns the total at each round: the instances together admit at most `max` plus, for
 *   each instance, the requests that reach it within three sync intervals (plus a Redis round trip) after the total
 *   passed `max`. One instance alone: exactly `max`.
 * - an instance that serves no requests sends nothing and wakes for nothing (no timer runs without counts to send).
 * The window starts with the key's first request and is Redis's (its counter's PTTL) once synced, so every instance
 * ends it at the same time (to within a round). Redis down: each instance counts alone (the limit holds per instance)
 * and syncs again once Redis is back; what it counted in a window that has ended meanwhile is dropped.
 * Supports the plain fixed window (not continueExceeding, exponentialBackoff or ban, which Deckhand does not use).
 */
import type { Redis } from 'ioredis';
import type { RateCount, RateCounts } from './http-rate-limit.js';

const SYNC_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {count, ttl}
`;

/** A key's known total is stale (its next request waits for a round) once this many intervals old. */
const STALE_AFTER_INTERVALS = 2;

interface SyncCommands {
  deckhandRateSync(key: string, delta: number, windowMs: number): Promise<[number, number]>;
}

interface Window {
  /** When the window ends (performance.now; Redis's end once synced). */
  end: number;
  windowMs: number;
  /** The total across instances at the last sync (this instance's synced requests included). */
  synced: number;
  /** This instance's requests in a sync under way. */
  sending: number;
  /** This instance's requests since. */
  local: number;
  /** When the round that last told this instance the total started (performance.now; -Infinity: none did). */
  learned: number;
  /** Requests in `local` that wait for the total (`at`: their place in `local`). */
  waiting: Waiter[];
}

type Result = RateCount;

/** A request waiting for a round; `alone` is its answer when no round can tell (Redis down or slow). */
interface Waiter {
  at: number;
  alone: Result;
  resolve(result: Result): void;
}

export interface HttpRateSyncOptions {
  redis: Redis;
  prefix: string;
  syncMs: number;
  /** Keys kept at most (least recently used dropped first; default 50,000). */
  maxKeys?: number;
}

/** The windows of every key of one app, and the rounds that share them. */
export class HttpRateSync implements RateCounts {
  private readonly windows = new Map<string, Window>();
  /** Keys with requests counted here and not sent yet: the ones the next round covers. */
  private readonly unsent = new Set<string>();
  private readonly redis: Redis & SyncCommands;
  private readonly maxKeys: number;
  /** When the last round started (performance.now). */
  private lastRound = Number.NEGATIVE_INFINITY;
  /** A round queued for the end of the current turn. */
  private queued: NodeJS.Immediate | undefined;
  /** The round for counts that no later request carried (two intervals after the last round). */
  private fallback: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private closed = false;
  /** The windows with requests waiting for the next round, and the requests waiting for the one under way. */
  private readonly waiting = new Set<Window>();
  private inFlight: Waiter[] = [];
  /** Answers the waiting requests alone if the round under way takes longer than an interval. */
  private slow: NodeJS.Timeout | undefined;

  constructor(private readonly options: HttpRateSyncOptions) {
    const redis = options.redis as Redis & SyncCommands;
    if (!(redis as unknown as Record<string, unknown>).deckhandRateSync)
      redis.defineCommand('deckhandRateSync', { numberOfKeys: 1, lua: SYNC_SCRIPT });
    this.redis = redis;
    this.maxKeys = options.maxKeys ?? 50_000;
  }

  /** Counts a request; its answer now, or once a round told the total when the one known is stale. */
  incr(key: string, windowMs: number): Result | Promise<Result> {
    const now = performance.now();
    let w = this.windows.get(key);
    if (!w || now >= w.end) {
      if (w) this.answerAlone(w);
      w = { end: now + windowMs, windowMs, synced: 0, sending: 0, local: 0, learned: Number.NEGATIVE_INFINITY, waiting: [] };
    }
    this.windows.delete(key);
    this.windows.set(key, w);
    if (this.windows.size > this.maxKeys) {
      const [oldest] = this.windows.keys();
      this.answerAlone(this.windows.get(oldest!)!);
      this.windows.delete(oldest!);
      this.unsent.delete(oldest!);
    }
    w.local++;
    this.unsent.add(key);
    const alone = { current: w.synced + w.sending + w.local, ttl: w.end - now };
    const { syncMs } = this.options;
    // Known recently enough (steady traffic, a round every interval, never waits), or no round can tell soon
    // (closing, Redis down, a round stuck for an interval).
    if (
      now - w.learned < STALE_AFTER_INTERVALS * syncMs ||
      this.closed ||
      this.redis.status !== 'ready' ||
      (this.syncing && now - this.lastRound >= syncMs)
    ) {
      this.schedule(now);
      return alone;
    }
    const window = w;
    return new Promise((resolve) => {
      window.waiting.push({ at: window.local, alone, resolve });
      this.waiting.add(window);
      if (this.syncing) this.watchSlow();
      else this.schedule(now, true);
    });
  }

  read(key: string): { current: number; ttl: number } {
    const now = performance.now();
    const w = this.windows.get(key);
    if (!w || now >= w.end) return { current: 0, ttl: 0 };
    return { current: w.synced + w.sending + w.local, ttl: w.end - now };
  }

  /** Shutdown: no more rounds by timer; what is unsent goes in one last round (the lifecycle bounds the wait). */
  async close(): Promise<void> {
    this.closed = true;
    clearImmediate(this.queued);
    clearTimeout(this.fallback);
    this.queued = this.fallback = undefined;
    while (this.syncing) await this.syncing;
    await this.sync();
    for (const w of this.waiting) this.answerAlone(w);
  }

  /**
   * Counts are waiting: a round at the end of this turn if the last one is at least an interval old (the turn a
   * request is handled in, so its Redis traffic goes out together) or a request waits for it, else the fallback
   * timer, armed once per round.
   */
  private schedule(now: number, waited = false): void {
    if (this.queued || this.syncing || this.closed) return;
    const { syncMs } = this.options;
    if (waited || now - this.lastRound >= syncMs) {
      this.queued = setImmediate(() => {
        this.queued = undefined;
        void this.sync();
      });
      return;
    }
    if (this.fallback) return;
    this.fallback = setTimeout(
      () => {
        this.fallback = undefined;
        void this.sync();
      },
      this.lastRound + 2 * syncMs - now,
    );
    this.fallback.unref();
  }

  /** One round: sends what each key counted since the last one and learns the totals (one pipeline at a time). */
  sync(): Promise<void> {
    if (this.syncing) return this.syncing;
    clearTimeout(this.fallback);
    this.fallback = undefined;
    if (this.unsent.size === 0 || this.redis.status !== 'ready') {
      // Redis down: the counts wait for the fallback round after this one; waiting requests are answered alone.
      for (const w of this.waiting) this.answerAlone(w);
      if (this.unsent.size > 0 && !this.closed) this.later();
      return Promise.resolve();
    }
    this.syncing = this.round().finally(() => {
      this.syncing = undefined;
      if (this.unsent.size > 0 && !this.closed) this.schedule(performance.now(), this.waiting.size > 0);
    });
    return this.syncing;
  }

  private later(): void {
    this.lastRound = performance.now();
    this.schedule(this.lastRound);
  }

  private async round(): Promise<void> {
    const now = performance.now();
    this.lastRound = now;
    const batch: [string, Window, number, Waiter[]][] = [];
    for (const key of this.unsent) {
      this.unsent.delete(key);
      const w = this.windows.get(key);
      if (w && now >= w.end) this.answerAlone(w);
      if (!w || now >= w.end || w.local === 0) continue;
      w.sending = w.local;
      w.local = 0;
      batch.push([key, w, w.sending, w.waiting]);
      this.inFlight.push(...w.waiting);
      w.waiting = [];
      this.waiting.delete(w);
    }
    if (batch.length === 0) return;
    if (this.inFlight.length > 0 || this.waiting.size > 0) this.watchSlow();
    try {
      const pipeline = this.redis.pipeline() as unknown as {
        deckhandRateSync(...args: (string | number)[]): unknown;
        exec(): Promise<[Error | null, unknown][] | null>;
      };
      for (const [key, w, delta] of batch) pipeline.deckhandRateSync(`${this.options.prefix}${key}`, delta, w.windowMs);
      const replies = (await pipeline.exec()) ?? [];
      const at = performance.now();
      batch.forEach(([key, w, delta, waiters], i) => {
        const [err, reply] = replies[i] ?? [new Error('no reply'), null];
        if (err || !Array.isArray(reply)) return this.unsentAgain(key, w, waiters);
        const [count, ttl] = reply as [number, number];
        w.synced = Number(count);
        w.sending = 0;
        w.end = at + Number(ttl);
        w.learned = now;
        // Each waiting request's place in the count: this round's requests end at `count`, later ones follow it.
        for (const waiter of waiters) waiter.resolve({ current: w.synced - delta + waiter.at, ttl: w.end - at });
        for (const waiter of w.waiting) waiter.resolve({ current: w.synced + waiter.at, ttl: w.end - at });
        w.waiting = [];
        this.waiting.delete(w);
      });
    } catch {
      for (const [key, w, , waiters] of batch) this.unsentAgain(key, w, waiters);
    } finally {
      clearTimeout(this.slow);
      this.slow = undefined;
      this.inFlight = [];
    }
  }

  /**
   * Redis slower than an interval: the requests waiting for the round under way are answered alone. Decided after
   * the I/O of the turn the timer fires in (setImmediate runs after the poll phase): a reply that arrived while this
   * process was busy, e.g. for longer than an interval on a loaded machine, still answers them with the total.
   */
  private watchSlow(): void {
    if (this.slow) return;
    const slow = setTimeout(
      () => {
        setImmediate(() => {
          if (this.slow !== slow) return;
          this.slow = undefined;
          for (const waiter of this.inFlight) waiter.resolve(waiter.alone);
          for (const w of this.waiting) this.answerAlone(w);
        });
      },
      Math.max(0, this.lastRound + this.options.syncMs - performance.now()),
    ).unref();
    this.slow = slow;
  }

  /** Answers the requests waiting for the window's total with what this instance counted alone. */
  private answerAlone(w: Window): void {
    for (const waiter of w.waiting) waiter.resolve(waiter.alone);
    w.waiting = [];
    this.waiting.delete(w);
  }

  /** A round that failed: its requests count locally and go with the next round (the window has not ended). */
  private unsentAgain(key: string, w: Window, waiters: Waiter[]): void {
    for (const waiter of waiters) waiter.resolve(waiter.alone);
    this.answerAlone(w);
    w.local += w.sending;
    w.sending = 0;
    if (this.windows.get(key) === w) this.unsent.add(key);
  }
}
