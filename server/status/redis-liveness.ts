/**
 * Liveness across instances in Redis: heartbeated per-instance presence keys with a TTL.
 *
 * - `{prefix}:status:live:{userId}`: a sorted set of the instances with a live connection of the user, each scored
 *   with the time its presence expires (Redis server time, so instance clocks do not matter);
 * - `{prefix}:status:live`: every user with a presence anywhere, scored with the latest expiry (ZADD GT).
 * Each instance renews its users every ttl/3 (heartbeat, up to 200 users per script call). When an instance dies its presences are no longer renewed:
 * they stop counting for `isLive` once expired, and `takeExpired` (run by every instance) removes a user whose every
 * presence expired, atomically, so exactly one instance announces that user offline. A Redis that lost its keys
 * (restart) is refilled by the next heartbeat, which reports the users it had to add back.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ExpiredUser, Liveness } from './liveness.js';

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** KEYS: user key, index. ARGV: instance, user, ttl. Returns 1 when no other instance had the user. */
const ONLINE_SCRIPT = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local others = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then others = others - 1 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], 'GT', now + tonumber(ARGV[3]), ARGV[2])
if others == 0 then return 1 end
return 0
`;

/** KEYS: user key, index. ARGV: instance, user. Returns 1 when no instance has the user any more. */
const OFFLINE_SCRIPT = `${NOW}
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`;

/**
 * KEYS: index, then one user key per user. ARGV: instance, ttl, then the users (in KEYS' order). Renews each user's
 * presence of this instance; returns the 1-based positions of the users that were not in the index (dropped).
 */
const HEARTBEAT_SCRIPT = `${NOW}
local expiry = now + tonumber(ARGV[2])
local dropped = {}
for i = 2, #KEYS do
  local user = ARGV[i + 1]
  if not redis.call('ZSCORE', KEYS[1], user) then dropped[#dropped + 1] = i - 1 end
  redis.call('ZADD', KEYS[i], expiry, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
  redis.call('ZADD', KEYS[1], 'GT', expiry, user)
end
return dropped
`;

/** Users per heartbeat script call: one call renews many (no command, promise and Lua set-up per user). */
const HEARTBEAT_BATCH = 200;

/** KEYS: user key. Returns the count of unexpired presences. */
const COUNT_SCRIPT = `${NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`;

/** KEYS: index. ARGV: max. Removes and returns [user, expiry, …] of the users whose every presence expired. */
const TAKE_EXPIRED_SCRIPT = `${NOW}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
for i = 1, #expired, 2 do redis.call('ZREM', KEYS[1], expired[i]) end
return expired
`;

interface LivenessCommands {
  deckhandLiveOnline(userKey: string, index: string, instance: string, userId: string, ttlMs: number): Promise<number>;
  deckhandLiveOffline(userKey: string, index: string, instance: string, userId: string): Promise<number>;
  deckhandLiveHeartbeat(keyCount: number, ...keysThenArgs: (string | number)[]): Promise<number[]>;
  deckhandLiveCount(userKey: string): Promise<number>;
  deckhandLiveTakeExpired(index: string, max: number): Promise<string[]>;
}

export class RedisLiveness implements Liveness {
  private readonly redis: Redis & LivenessCommands;
  private readonly instanceId = randomBytes(6).toString('hex');
  private readonly index: string;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    /** How long a presence outlives its last heartbeat. */
    readonly ttlMs: number,
  ) {
    const commands = redis as Redis & LivenessCommands;
    if (!(commands as unknown as Record<string, unknown>).deckhandLiveOnline) {
      commands.defineCommand('deckhandLiveOnline', { numberOfKeys: 2, lua: ONLINE_SCRIPT });
      commands.defineCommand('deckhandLiveOffline', { numberOfKeys: 2, lua: OFFLINE_SCRIPT });
      commands.defineCommand('deckhandLiveHeartbeat', { lua: HEARTBEAT_SCRIPT });
      commands.defineCommand('deckhandLiveCount', { numberOfKeys: 1, lua: COUNT_SCRIPT });
      commands.defineCommand('deckhandLiveTakeExpired', { numberOfKeys: 1, lua: TAKE_EXPIRED_SCRIPT });
    }
    this.redis = commands;
    this.index = `${prefix}:status:live`;
  }

  private userKey(userId: string): string {
    return `${this.prefix}:status:live:${encodeURIComponent(userId)}`;
  }

  async online(userId: string): Promise<boolean> {
    return (await this.redis.deckhandLiveOnline(this.userKey(userId), this.index, this.instanceId, userId, this.ttlMs)) === 1;
  }

  async offline(userId: string): Promise<boolean> {
    return (await this.redis.deckhandLiveOffline(this.userKey(userId), this.index, this.instanceId, userId)) === 1;
  }

  async isLive(userId: string): Promise<boolean> {
    return Number(await this.redis.deckhandLiveCount(this.userKey(userId))) > 0;
  }

  async heartbeat(userIds: string[]): Promise<string[]> {
    const dropped: string[] = [];
    for (let i = 0; i < userIds.length; i += HEARTBEAT_BATCH) {
      const batch = userIds.slice(i, i + HEARTBEAT_BATCH);
      const positions = await this.redis.deckhandLiveHeartbeat(
        batch.length + 1,
        this.index,
        ...batch.map((userId) => this.userKey(userId)),
        this.instanceId,
        this.ttlMs,
        ...batch,
      );
      for (const position of positions) dropped.push(batch[Number(position) - 1]!);
    }
    return dropped;
  }

  async takeExpired(max: number): Promise<ExpiredUser[]> {
    const flat = await this.redis.deckhandLiveTakeExpired(this.index, max);
    const expired: ExpiredUser[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) expired.push({ userId: flat[i]!, lastSeen: Number(flat[i + 1]) - this.ttlMs });
    return expired;
  }
}
