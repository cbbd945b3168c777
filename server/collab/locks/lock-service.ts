/**
 * The lock protocol around a LockStore (design §5):
 * - acquire / release / renew on behalf of a connection (stateless messages) or a user (REST);
 * - only existing slides are locked (the caller resolves the slide: its id and the struct id of its map), and
 *   locks are capped per user and per document (LockLimits);
 * - every change is signalled on the bus (`collab.locks.{presentationId}`); each instance that has the document
 *   loaded re-reads the table from the store into its cache (what the write guard reads, synchronously) and emits
 *   what changed (`onChange`): the lock extension sends that, not the table, to its own connections;
 * - expiry: a sweep on every instance releases expired locks of the documents it has loaded;
 * - a connection that leaves releases its locks; a holder's activity renews them (at most every ttl/4).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { LocksChangedMessage, LocksMessage, SlideLock } from '../../../shared/locks.js';
import type { Bus, Unsubscribe } from '../../bus/types.js';
import type { AcquireResult, LockHolder, LockLimits, LockStore, LockTarget, StoredLock } from './lock-store.js';

export const locksChannel = (presentationId: string): string => `collab.locks.${presentationId}`;

export function toSlideLock(lock: StoredLock): SlideLock {
  return {
    slide_id: lock.slideId,
    user_id: lock.userId,
    name: lock.name,
    color: lock.color,
    expires_at: new Date(lock.expiresAt).toISOString(),
    acquired_at: new Date(lock.acquiredAt).toISOString(),
  };
}

/** What changed in a presentation's lock table: locks taken, moved or renewed, and slides released. */
export interface LockChange {
  set: StoredLock[];
  released: string[];
}

export type LockChangeListener = (presentationId: string, change: LockChange) => void;

interface Tracked {
  locks: StoredLock[];
  unsubscribe: Promise<Unsubscribe>;
  /** connection id → last renewal (ms) */
  renewedAt: Map<string, number>;
}

export interface LockServiceOptions {
  store: LockStore;
  bus: Bus;
  ttlMs: number;
  limits: LockLimits;
  logger: FastifyBaseLogger;
  sweepIntervalMs?: number;
}

export class LockService {
  private readonly tracked = new Map<string, Tracked>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly listeners = new Set<LockChangeListener>();
  readonly stats = { acquired: 0, refused: 0, released: 0, expired: 0 };

  constructor(private readonly options: LockServiceOptions) {
    const interval = options.sweepIntervalMs ?? Math.min(5000, Math.max(250, options.ttlMs / 10));
    this.sweeper = setInterval(() => void this.sweep(), interval);
    this.sweeper.unref();
  }

  get ttlMs(): number {
    return this.options.ttlMs;
  }

  /** Follows changes of the tables this instance tracks (one call per change, with what changed). */
  onChange(listener: LockChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Locks of a loaded presentation from the cache (what the write guard uses); [] when not tracked. */
  cached(presentationId: string): readonly StoredLock[] {
    const now = Date.now();
    return (this.tracked.get(presentationId)?.locks ?? []).filter((l) => l.expiresAt > now);
  }

  /** Current locks from the store (REST, any instance). */
  list(presentationId: string): Promise<StoredLock[]> {
    return this.options.store.list(presentationId);
  }

  get count(): number {
    let n = 0;
    for (const id of this.tracked.keys()) n += this.cached(id).length;
    return n;
  }

  /** Starts following a presentation's locks (its document was loaded on this instance). */
  async track(presentationId: string): Promise<void> {
    if (this.tracked.has(presentationId)) return;
    const entry: Tracked = {
      locks: [],
      renewedAt: new Map(),
      unsubscribe: this.options.bus.subscribe(locksChannel(presentationId), {
        event: () => void this.refresh(presentationId),
        gap: () => void this.refresh(presentationId),
      }),
    };
    this.tracked.set(presentationId, entry);
    await entry.unsubscribe;
    entry.locks = await this.options.store.list(presentationId);
  }

  async untrack(presentationId: string): Promise<void> {
    const entry = this.tracked.get(presentationId);
    if (!entry) return;
    this.tracked.delete(presentationId);
    (await entry.unsubscribe)();
  }

  /** Locks an existing slide (the caller resolved `target` in the document). */
  async acquire(presentationId: string, target: LockTarget, holder: LockHolder): Promise<AcquireResult> {
    const result = await this.options.store.acquire(presentationId, target, holder, this.options.ttlMs, this.options.limits);
    if (!result.ok) {
      this.stats.refused++;
      return result;
    }
    this.stats.acquired++;
    if (result.changed) await this.signal(presentationId);
    else await this.refresh(presentationId); // renewed: new expiry, no need to wake every instance
    return result;
  }

  async release(presentationId: string, slideId: string, userId: string | null, force = false): Promise<boolean> {
    const released = await this.options.store.release(presentationId, slideId, userId, force);
    if (released) {
      this.stats.released++;
      await this.signal(presentationId);
    }
    return released;
  }

  /** The holder was active: extend its locks, at most every ttl/4 per connection. */
  async touch(presentationId: string, connectionId: string): Promise<void> {
    const entry = this.tracked.get(presentationId);
    if (!entry?.locks.some((l) => l.connectionId === connectionId)) return;
    const now = Date.now();
    if (now - (entry.renewedAt.get(connectionId) ?? 0) < this.options.ttlMs / 4) return;
    entry.renewedAt.set(connectionId, now);
    if ((await this.options.store.renew(presentationId, connectionId, this.options.ttlMs, now)) > 0) {
      await this.refresh(presentationId);
    }
  }

  async releaseConnection(presentationId: string, connectionId: string): Promise<void> {
    this.tracked.get(presentationId)?.renewedAt.delete(connectionId);
    const released = await this.options.store.releaseConnection(presentationId, connectionId);
    if (released.length > 0) {
      this.stats.released += released.length;
      await this.signal(presentationId);
    }
  }

  /** The `locks` message for a presentation (the whole table, sent on join), from the cache. */
  message(presentationId: string): string {
    const message: LocksMessage = {
      type: 'locks',
      presentation_id: presentationId,
      locks: this.cached(presentationId).map(toSlideLock),
      timestamp: new Date().toISOString(),
    };
    return JSON.stringify(message);
  }

  /** The `locks_changed` message for a change. */
  changeMessage(presentationId: string, change: LockChange): string {
    const message: LocksChangedMessage = {
      type: 'locks_changed',
      presentation_id: presentationId,
      set: change.set.map(toSlideLock),
      released: change.released,
      timestamp: new Date().toISOString(),
    };
    return JSON.stringify(message);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.tracked.keys()].map((id) => this.untrack(id)));
  }

  private async signal(presentationId: string): Promise<void> {
    try {
      await this.options.bus.publish(locksChannel(presentationId), '{}');
    } catch (err) {
      // The store changed; other instances catch up on their next sweep or signal.
      this.options.logger.warn({ err, presentationId }, 'could not signal a lock change');
    }
    // The memory bus delivers synchronously, Redis a moment later: refresh here too, so the caller sees its change.
    await this.refresh(presentationId);
  }

  private async refresh(presentationId: string): Promise<void> {
    const entry = this.tracked.get(presentationId);
    if (!entry) return;
    try {
      const locks = await this.options.store.list(presentationId);
      const change = diff(entry.locks, locks);
      entry.locks = locks;
      if (change.set.length === 0 && change.released.length === 0) return;
      for (const listener of this.listeners) {
        try {
          listener(presentationId, change);
        } catch (err) {
          this.options.logger.error({ err, presentationId }, 'lock change listener failed');
        }
      }
    } catch (err) {
      this.options.logger.warn({ err, presentationId }, 'could not read locks');
    }
  }

  private async sweep(): Promise<void> {
    for (const presentationId of this.tracked.keys()) {
      try {
        const expired = await this.options.store.releaseExpired(presentationId);
        if (expired.length > 0) {
          this.stats.expired += expired.length;
          await this.signal(presentationId);
        } else if (this.tracked.get(presentationId)?.locks.some((l) => l.expiresAt <= Date.now())) {
          // Another instance expired them first: our cache still shows them.
          await this.refresh(presentationId);
        }
      } catch (err) {
        this.options.logger.warn({ err, presentationId }, 'lock sweep failed');
      }
    }
  }
}

/** Locks new or changed (holder, connection, expiry) from `before` to `after`, and slides no longer locked. */
export function diff(before: readonly StoredLock[], after: readonly StoredLock[]): LockChange {
  const previous = new Map(before.map((l) => [l.slideId, l]));
  const set = after.filter((l) => {
    const p = previous.get(l.slideId);
    return !p || p.userId !== l.userId || p.connectionId !== l.connectionId || p.expiresAt !== l.expiresAt;
  });
  const current = new Set(after.map((l) => l.slideId));
  return { set, released: before.filter((l) => !current.has(l.slideId)).map((l) => l.slideId) };
}
