/**
 * This instance's live connections per user, whatever the endpoint: every connection that takes a per-user slot from
 * the connection counter (server/limits) — /collab sockets (server/collab/socket-slots.ts), the JSON sockets and the
 * SSE streams (server/streaming/admission.ts) — is counted from the moment it gets its slot until the slot is
 * released. `track(counter)` returns the counter those endpoints use; the user's first connection and last release
 * here are reported to the listener (the status service), which tells the other instances.
 */
import type { ConnectionCounter } from '../limits/index.js';

export interface ConnectionListener {
  /** The user's first live connection on this instance. */
  first(userId: string): void;
  /** The user's last live connection on this instance ended. */
  last(userId: string): void;
}

export class UserConnections {
  private readonly counts = new Map<string, number>();
  private listener: ConnectionListener | undefined;

  /** The counter to hand to the endpoints: the same limits, and every slot taken counts as a live connection. */
  track(counter: ConnectionCounter): ConnectionCounter {
    return {
      kind: counter.kind,
      maxPerUser: counter.maxPerUser,
      acquire: async (kind, userId, max) => {
        const release = await counter.acquire(kind, userId, max);
        if (!release) return null;
        this.opened(userId);
        let released = false;
        return () => {
          if (released) return;
          released = true;
          release();
          this.closed(userId);
        };
      },
      count: (kind, userId) => counter.count(kind, userId),
      close: () => counter.close(),
    };
  }

  listen(listener: ConnectionListener): void {
    this.listener = listener;
  }

  /** Live connections of the user on this instance. */
  count(userId: string): number {
    return this.counts.get(userId) ?? 0;
  }

  /** The users with a live connection on this instance. */
  users(): string[] {
    return [...this.counts.keys()];
  }

  private opened(userId: string): void {
    const count = this.count(userId) + 1;
    this.counts.set(userId, count);
    if (count === 1) this.listener?.first(userId);
  }

  private closed(userId: string): void {
    const count = this.count(userId) - 1;
    if (count > 0) {
      this.counts.set(userId, count);
      return;
    }
    this.counts.delete(userId);
    this.listener?.last(userId);
  }
}
