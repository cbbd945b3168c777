/**
 * Who is typing where, as leases every instance can see: in this process (the embedded default) or in one Redis sorted
 * set (`{prefix}:chat:typing`, member = [presentation, user, name] as JSON, score = expiry in Redis server time).
 *
 * The instance a typist is connected to owns the typing state: it renews the lease while `typing:true` keeps coming
 * and ends it (publishing `typing:false`) when the typist stops, goes quiet or disconnects. The lease outlives the
 * owner's own timer by a grace period, so it only expires when its owner could not end it (a crashed instance); then
 * `takeExpired` hands it to exactly one instance (an atomic remove), which publishes the `typing:false`.
 * A Redis that lost its keys (restart) loses the leases; the owners' next renewals find them missing and announce the
 * typists again.
 */
import type { Redis } from 'ioredis';

export interface TypingLease {
  presentationId: string;
  userId: string;
  userName: string;
}

export interface TypingLeases {
  /** Records or renews the lease for `ttlMs` from now; resolves true when it was not recorded (a new typist). */
  renew(lease: TypingLease, ttlMs: number): Promise<boolean>;
  /** Removes the lease. */
  end(lease: TypingLease): Promise<void>;
  /**
   * Removes and returns the leases that expired (at most `max`; each is returned to one caller only), and how long
   * until the earliest lease left expires (null: none is left).
   */
  takeExpired(max: number): Promise<ExpiredLeases>;
}

export interface ExpiredLeases {
  leases: TypingLease[];
  /** ms until the earliest remaining lease expires (0 when more expired ones are left); null when there is none. */
  nextInMs: number | null;
}

const memberOf = (lease: TypingLease): string => JSON.stringify([lease.presentationId, lease.userId, lease.userName]);

function leaseOf(member: string): TypingLease | null {
  try {
    const [presentationId, userId, userName] = JSON.parse(member) as unknown[];
    if (typeof presentationId !== 'string' || typeof userId !== 'string' || typeof userName !== 'string') return null;
    return { presentationId, userId, userName };
  } catch {
    return null;
  }
}

export class MemoryTypingLeases implements TypingLeases {
  private readonly leases = new Map<string, number>();

  async renew(lease: TypingLease, ttlMs: number): Promise<boolean> {
    const member = memberOf(lease);
    const fresh = !this.leases.has(member);
    this.leases.set(member, Date.now() + ttlMs);
    return fresh;
  }

  async end(lease: TypingLease): Promise<void> {
    this.leases.delete(memberOf(lease));
  }

  async takeExpired(max: number): Promise<ExpiredLeases> {
    const now = Date.now();
    const leases: TypingLease[] = [];
    let next = Infinity;
    for (const [member, expiresAt] of this.leases) {
      if (expiresAt > now || leases.length >= max) {
        next = Math.min(next, expiresAt);
        continue;
      }
      this.leases.delete(member);
      const lease = leaseOf(member);
      if (lease) leases.push(lease);
    }
    return { leases, nextInMs: next === Infinity ? null : Math.max(0, next - now) };
  }
}

const RENEW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
`;

const TAKE_EXPIRED_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #expired > 0 then redis.call('ZREM', KEYS[1], unpack(expired)) end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local nextIn = -1
if #first > 0 then nextIn = math.max(0, tonumber(first[2]) - now) end
return {expired, nextIn}
`;

interface TypingCommands {
  deckhandTypingRenew(key: string, member: string, ttlMs: number): Promise<number>;
  deckhandTypingTakeExpired(key: string, max: number): Promise<[string[], number]>;
}

export class RedisTypingLeases implements TypingLeases {
  private readonly redis: Redis & TypingCommands;
  private readonly key: string;

  constructor(redis: Redis, prefix: string) {
    const commands = redis as Redis & TypingCommands;
    if (!(commands as unknown as Record<string, unknown>).deckhandTypingRenew) {
      commands.defineCommand('deckhandTypingRenew', { numberOfKeys: 1, lua: RENEW_SCRIPT });
      commands.defineCommand('deckhandTypingTakeExpired', { numberOfKeys: 1, lua: TAKE_EXPIRED_SCRIPT });
    }
    this.redis = commands;
    this.key = `${prefix}:chat:typing`;
  }

  async renew(lease: TypingLease, ttlMs: number): Promise<boolean> {
    return (await this.redis.deckhandTypingRenew(this.key, memberOf(lease), ttlMs)) === 1;
  }

  async end(lease: TypingLease): Promise<void> {
    await this.redis.zrem(this.key, memberOf(lease));
  }

  async takeExpired(max: number): Promise<ExpiredLeases> {
    const [members, nextIn] = await this.redis.deckhandTypingTakeExpired(this.key, max);
    return {
      leases: members.map(leaseOf).filter((lease): lease is TypingLease => lease !== null),
      nextInMs: nextIn < 0 ? null : Number(nextIn),
    };
  }
}
