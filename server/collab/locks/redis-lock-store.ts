/**
 * Locks in Redis, one hash per presentation (`{prefix}:locks:{presentationId}`, field = slide id, value = JSON),
 * changed only by Lua scripts so every check-and-set is atomic across instances. Expiry is in the value
 * (`expiresAt`, instance clocks); the hash itself expires a while after its last change, so nothing leaks.
 */
import type { Redis } from 'ioredis';
import type { AcquireResult, LockHolder, LockLimits, LockStore, LockTarget, StoredLock } from './lock-store.js';

/**
 * KEYS[1] = hash; ARGV[1] = slide id, ARGV[2] = lock JSON, ARGV[3] = now, ARGV[4] = user id, ARGV[5] = hash ttl,
 * ARGV[6] = max locks per user, ARGV[7] = max locks per document.
 * Returns {1, lock, changed} | {0, current lock} | {2, 'user' | 'document'} (a new lock past a limit).
 */
const ACQUIRE = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local now = tonumber(ARGV[3])
local acquired = now
local renewal = false
if cur then
  local c = cjson.decode(cur)
  if c.expiresAt > now then
    if c.userId ~= ARGV[4] then return {0, cur} end
    acquired = c.acquiredAt
    renewal = true
  end
end
if not renewal then
  local entries = redis.call('HVALS', KEYS[1])
  local total, mine = 0, 0
  for i = 1, #entries do
    local l = cjson.decode(entries[i])
    if l.expiresAt > now then
      total = total + 1
      if l.userId == ARGV[4] then mine = mine + 1 end
    end
  end
  if mine >= tonumber(ARGV[6]) then return {2, 'user'} end
  if total >= tonumber(ARGV[7]) then return {2, 'document'} end
end
local lock = cjson.decode(ARGV[2])
lock.acquiredAt = acquired
local encoded = cjson.encode(lock)
redis.call('HSET', KEYS[1], ARGV[1], encoded)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local changed = 1
if renewal and cjson.decode(cur).connectionId == lock.connectionId then changed = 0 end
return {1, encoded, changed}
`;

const RELEASE = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
if ARGV[2] ~= '1' and cjson.decode(cur).userId ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`;

/** ARGV[1] = mode ('renew' | 'release-connection' | 'release-expired'), ARGV[2] = connection id, ARGV[3] = now, ARGV[4] = ttl */
const SWEEP = `
local entries = redis.call('HGETALL', KEYS[1])
local now = tonumber(ARGV[3])
local touched = {}
for i = 1, #entries, 2 do
  local slide, lock = entries[i], cjson.decode(entries[i + 1])
  if ARGV[1] == 'renew' then
    if lock.connectionId == ARGV[2] and lock.expiresAt > now then
      lock.expiresAt = now + tonumber(ARGV[4])
      redis.call('HSET', KEYS[1], slide, cjson.encode(lock))
      table.insert(touched, slide)
    end
  elseif (ARGV[1] == 'release-connection' and lock.connectionId == ARGV[2]) or (ARGV[1] == 'release-expired' and lock.expiresAt <= now) then
    redis.call('HDEL', KEYS[1], slide)
    table.insert(touched, slide)
  end
end
if ARGV[1] == 'renew' and #touched > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return touched
`;

export class RedisLockStore implements LockStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(presentationId: string): string {
    return `${this.prefix}:locks:${presentationId}`;
  }

  /** The hash outlives its newest lock by a margin, then Redis forgets it. */
  private keyTtl(ttlMs: number): number {
    return ttlMs * 2 + 60_000;
  }

  async acquire(
    presentationId: string,
    { slideId, ref }: LockTarget,
    holder: LockHolder,
    ttlMs: number,
    limits: LockLimits,
    now = Date.now(),
  ): Promise<AcquireResult> {
    const lock: StoredLock = { ...holder, slideId, slideRef: ref, acquiredAt: now, expiresAt: now + ttlMs };
    const [ok, encoded, changed] = (await this.redis.eval(
      ACQUIRE,
      1,
      this.key(presentationId),
      slideId,
      JSON.stringify(lock),
      String(now),
      holder.userId,
      String(this.keyTtl(ttlMs)),
      String(limits.perUser),
      String(limits.perDocument),
    )) as [number, string, number?];
    if (ok === 2) {
      const limit = encoded === 'user' ? 'user' : 'document';
      return { ok: false, reason: 'limit', limit, max: limit === 'user' ? limits.perUser : limits.perDocument };
    }
    const stored = JSON.parse(encoded) as StoredLock;
    return ok === 1 ? { ok: true, lock: stored, changed: changed === 1 } : { ok: false, reason: 'held', lock: stored };
  }

  async release(presentationId: string, slideId: string, userId: string | null, force = false): Promise<boolean> {
    const removed = await this.redis.eval(RELEASE, 1, this.key(presentationId), slideId, force ? '1' : '0', userId ?? '');
    return removed === 1;
  }

  async renew(presentationId: string, connectionId: string, ttlMs: number, now = Date.now()): Promise<number> {
    return (await this.sweep(presentationId, 'renew', connectionId, now, ttlMs)).length;
  }

  releaseConnection(presentationId: string, connectionId: string): Promise<string[]> {
    return this.sweep(presentationId, 'release-connection', connectionId, Date.now(), 0);
  }

  releaseExpired(presentationId: string, now = Date.now()): Promise<string[]> {
    return this.sweep(presentationId, 'release-expired', '', now, 0);
  }

  async list(presentationId: string, now = Date.now()): Promise<StoredLock[]> {
    const entries = await this.redis.hgetall(this.key(presentationId));
    return Object.values(entries)
      .map((v) => JSON.parse(v) as StoredLock)
      .filter((l) => l.expiresAt > now);
  }

  async close(): Promise<void> {}

  private async sweep(presentationId: string, mode: string, connectionId: string, now: number, ttlMs: number): Promise<string[]> {
    const touched = (await this.redis.eval(
      SWEEP,
      1,
      this.key(presentationId),
      mode,
      connectionId,
      String(now),
      String(ttlMs),
      String(this.keyTtl(ttlMs)),
    )) as string[] | null;
    return touched ?? [];
  }
}
