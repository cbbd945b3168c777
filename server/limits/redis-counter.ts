/**
 * Connection counter shared by every instance through Redis.
 *
 * One sorted set per user and kind, `{prefix}:conn:{kind}:{userId}`: a member per open connection
 * (`{instanceId}:{n}`), scored with the time it expires (Redis server time, so instance clocks do not matter).
 * - acquire: one Lua script drops expired members, counts the rest and adds the new one only when under the limit
 *   (atomic across instances);
 * - every instance re-scores its own live members every `ttlMs / 3` (and re-adds them if Redis lost them), so the
 *   members of an instance that died expire within `ttlMs`;
 * - release removes the member (ZREM); a release that cannot reach Redis is covered by expiry.
 * When Redis does not answer within `timeoutMs`, acquire falls back to this instance's own count (a per-instance
 * limit) and the slot is tracked as usual: the next refresh that reaches Redis adds it there.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ConnectionCounter } from './connection-counter.js';

const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** Many keys per call: ARGV = ttl, then for each key its member count and members. */
const REFRESH_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local a = 2
for k = 1, #KEYS do
  local n = tonumber(ARGV[a])
  a = a + 1
  for i = 1, n do
    redis.call('ZADD', KEYS[k], now + ttl, ARGV[a])
    a = a + 1
  end
  redis.call('PEXPIRE', KEYS[k], ttl)
end
return 1
`;
/**
 * Keys per refresh call (every user with a connection here has one: one call per key was one round of Redis work
 * each). Calls go one after the other, small enough that Redis serves other clients (the bus) in between: a refresh
 * of thousands of users never holds Redis for long at once.
 */
const REFRESH_BATCH = 50;

const COUNT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`;

interface CounterCommands {
  deckhandConnAcquire(key: string, member: string, max: number, ttlMs: number): Promise<number>;
  deckhandConnRefreshMany(numKeys: number, ...args: (string | number)[]): Promise<number>;
  deckhandConnCount(key: string): Promise<number>;
}

export interface RedisConnectionCounterOptions {
  redis: Redis;
  prefix: string;
  maxPerUser: number;
  /** How long a member outlives its last refresh (default 15 s). */
  ttlMs?: number;
  /** How long acquire waits for Redis before falling back to the local count (default 1 s). */
  timeoutMs?: number;
  logger?: { warn(obj: object, msg: string): void };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
    }),
  ]);
}

export class RedisConnectionCounter implements ConnectionCounter {
  readonly kind = 'redis' as const;
  readonly maxPerUser: number;
  readonly ttlMs: number;
  private readonly redis: Redis & CounterCommands;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly logger: RedisConnectionCounterOptions['logger'];
  private readonly instanceId = randomBytes(6).toString('hex');
  private next = 0;
  /** This instance's live members (the key of each): one entry per open connection. */
  private readonly live = new Map<string, string>();
  /** This instance's open connections per key: the fallback limit when Redis does not answer. */
  private readonly localCounts = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private lastWarning = 0;
  private refreshing = false;
  private everReady: boolean;
  private closed = false;

  constructor(options: RedisConnectionCounterOptions) {
    this.maxPerUser = options.maxPerUser;
    this.ttlMs = options.ttlMs ?? 15_000;
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.prefix = options.prefix;
    this.logger = options.logger;
    const redis = options.redis as Redis & CounterCommands;
    if (!(redis as unknown as Record<string, unknown>).deckhandConnRefreshMany) {
      redis.defineCommand('deckhandConnAcquire', { numberOfKeys: 1, lua: ACQUIRE_SCRIPT });
      redis.defineCommand('deckhandConnRefreshMany', { lua: REFRESH_SCRIPT });
      redis.defineCommand('deckhandConnCount', { numberOfKeys: 1, lua: COUNT_SCRIPT });
    }
    this.redis = redis;
    this.everReady = redis.status === 'ready';
    if (!this.everReady) redis.once('ready', () => (this.everReady = true));
    this.timer = setInterval(() => void this.refresh(), Math.max(50, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  keyOf(kind: string, userId: string): string {
    return `${this.prefix}:conn:${encodeURIComponent(kind)}:${encodeURIComponent(userId)}`;
  }

  async acquire(kind: string, userId: string, max = this.maxPerUser): Promise<(() => void) | null> {
    if (this.closed) return null;
    const key = this.keyOf(kind, userId);
    const member = `${this.instanceId}:${(this.next++).toString(36)}`;
    try {
      // Connected once and lost it: do not wait for ioredis's reconnect attempts.
      if (this.everReady && this.redis.status !== 'ready') throw new Error(`redis ${this.redis.status}`);
      const admitted = await withTimeout(this.redis.deckhandConnAcquire(key, member, max, this.ttlMs), this.timeoutMs);
      if (admitted !== 1) return null;
    } catch (err) {
      this.warn(err);
      if ((this.localCounts.get(key) ?? 0) >= max) return null;
    }
    this.live.set(member, key);
    this.localCounts.set(key, (this.localCounts.get(key) ?? 0) + 1);
    // One closure per connection (the counter's whole per-connection state is this and one map entry).
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.localCounts.get(key) ?? 1) - 1;
      if (left <= 0) this.localCounts.delete(key);
      else this.localCounts.set(key, left);
      this.live.delete(member);
      this.redis.zrem(key, member).catch(() => {
        // Unreachable: the member expires within ttlMs (it is no longer refreshed).
      });
    };
  }

  async count(kind: string, userId: string): Promise<number> {
    return Number(await this.redis.deckhandConnCount(this.keyOf(kind, userId)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const entries = [...this.byKey()];
    this.live.clear();
    this.localCounts.clear();
    await withTimeout(Promise.allSettled(entries.map(([key, members]) => this.redis.zrem(key, ...members))), this.timeoutMs).catch(() => {});
  }

  /** Re-scores (or re-adds) this instance's live members. */
  private async refresh(): Promise<void> {
    if (this.closed || this.refreshing || this.live.size === 0) return;
    this.refreshing = true;
    const entries = [...this.byKey()];
    try {
      for (let i = 0; i < entries.length && !this.closed; i += REFRESH_BATCH) {
        const batch = entries.slice(i, i + REFRESH_BATCH);
        const args: (string | number)[] = [this.ttlMs];
        for (const [, members] of batch) args.push(members.length, ...members);
        await this.redis.deckhandConnRefreshMany(batch.length, ...batch.map(([key]) => key), ...args);
      }
    } catch (err) {
      this.warn(err);
    } finally {
      this.refreshing = false;
    }
  }

  /** This instance's live members grouped by key. */
  private byKey(): Map<string, string[]> {
    const groups = new Map<string, string[]>();
    for (const [member, key] of this.live) {
      const group = groups.get(key);
      if (group) group.push(member);
      else groups.set(key, [member]);
    }
    return groups;
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.logger?.warn({ err: { message: (err as Error)?.message } }, 'connection counter: Redis unavailable, limiting per instance');
  }
}
