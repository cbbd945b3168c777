/**
 * Connections per user per endpoint kind on this instance (WEBSOCKET_MAX_CONNECTIONS_PER_USER, design §7).
 * Counting across instances would need the bus; one instance's count already bounds what a user costs it.
 */
export type EndpointKind = 'generation-ws' | 'generation-sse' | 'notifications-ws' | 'notifications-sse';

export class ConnectionLimiter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly maxPerUser: number) {}

  /** Takes a slot; returns its release function (idempotent), or null when the user is at the limit. */
  acquire(kind: EndpointKind, userId: string): (() => void) | null {
    const key = `${kind}\u0000${userId}`;
    const count = this.counts.get(key) ?? 0;
    if (count >= this.maxPerUser) return null;
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

  count(kind: EndpointKind, userId: string): number {
    return this.counts.get(`${kind}\u0000${userId}`) ?? 0;
  }
}
