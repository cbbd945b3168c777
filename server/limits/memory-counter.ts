/** In-process connection counter: the embedded default (no REDIS_URL), and the Redis counter's fallback. */
import type { ConnectionCounter } from './connection-counter.js';

export class MemoryConnectionCounter implements ConnectionCounter {
  readonly kind = 'memory' as const;
  private readonly counts = new Map<string, number>();

  constructor(readonly maxPerUser: number) {}

  /** Synchronous form of `acquire`. */
  tryAcquire(kind: string, userId: string, max = this.maxPerUser): (() => void) | null {
    const key = `${kind}\u0000${userId}`;
    const count = this.counts.get(key) ?? 0;
    if (count >= max) return null;
    this.counts.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left <= 0) this.counts.delete(key);
      else this.counts.set(key, left);
    };
  }

  async acquire(kind: string, userId: string, max = this.maxPerUser): Promise<(() => void) | null> {
    return this.tryAcquire(kind, userId, max);
  }

  localCount(kind: string, userId: string): number {
    return this.counts.get(`${kind}\u0000${userId}`) ?? 0;
  }

  async count(kind: string, userId: string): Promise<number> {
    return this.localCount(kind, userId);
  }

  async close(): Promise<void> {
    this.counts.clear();
  }
}
