import type { AcquireResult, LockHolder, LockLimits, LockStore, LockTarget, StoredLock } from './lock-store.js';

/** Locks of one instance (the embedded default). */
export class MemoryLockStore implements LockStore {
  private readonly tables = new Map<string, Map<string, StoredLock>>();

  private table(presentationId: string): Map<string, StoredLock> {
    let table = this.tables.get(presentationId);
    if (!table) {
      table = new Map();
      this.tables.set(presentationId, table);
    }
    return table;
  }

  async acquire(
    presentationId: string,
    { slideId, ref }: LockTarget,
    holder: LockHolder,
    ttlMs: number,
    limits: LockLimits,
    now = Date.now(),
  ): Promise<AcquireResult> {
    const table = this.table(presentationId);
    const current = table.get(slideId);
    if (current && current.expiresAt > now && current.userId !== holder.userId) return { ok: false, reason: 'held', lock: current };
    const renewal = current !== undefined && current.expiresAt > now;
    if (!renewal) {
      const live = [...table.values()].filter((l) => l.expiresAt > now);
      if (live.filter((l) => l.userId === holder.userId).length >= limits.perUser)
        return { ok: false, reason: 'limit', limit: 'user', max: limits.perUser };
      if (live.length >= limits.perDocument) return { ok: false, reason: 'limit', limit: 'document', max: limits.perDocument };
    }
    const lock: StoredLock = {
      ...holder,
      slideId,
      slideRef: ref,
      acquiredAt: renewal ? current.acquiredAt : now,
      expiresAt: now + ttlMs,
    };
    table.set(slideId, lock);
    const changed = !renewal || current.connectionId !== holder.connectionId;
    return { ok: true, lock, changed };
  }

  async release(presentationId: string, slideId: string, userId: string | null, force = false): Promise<boolean> {
    const table = this.tables.get(presentationId);
    const current = table?.get(slideId);
    if (!table || !current || (!force && current.userId !== userId)) return false;
    table.delete(slideId);
    return true;
  }

  async renew(presentationId: string, connectionId: string, ttlMs: number, now = Date.now()): Promise<number> {
    let n = 0;
    for (const lock of this.tables.get(presentationId)?.values() ?? []) {
      if (lock.connectionId === connectionId && lock.expiresAt > now) {
        lock.expiresAt = now + ttlMs;
        n++;
      }
    }
    return n;
  }

  async releaseConnection(presentationId: string, connectionId: string): Promise<string[]> {
    return this.removeWhere(presentationId, (l) => l.connectionId === connectionId);
  }

  async releaseExpired(presentationId: string, now = Date.now()): Promise<string[]> {
    return this.removeWhere(presentationId, (l) => l.expiresAt <= now);
  }

  async list(presentationId: string, now = Date.now()): Promise<StoredLock[]> {
    return [...(this.tables.get(presentationId)?.values() ?? [])].filter((l) => l.expiresAt > now);
  }

  async close(): Promise<void> {
    this.tables.clear();
  }

  private removeWhere(presentationId: string, match: (lock: StoredLock) => boolean): string[] {
    const table = this.tables.get(presentationId);
    if (!table) return [];
    const removed: string[] = [];
    for (const [slideId, lock] of table) {
      if (match(lock)) {
        table.delete(slideId);
        removed.push(slideId);
      }
    }
    if (table.size === 0) this.tables.delete(presentationId);
    return removed;
  }
}
