/**
 * Whether a user has a live connection on any instance. Each instance reports its own users' first connection and
 * last release (./user-connections.ts); this keeps the union:
 * - in this process (MemoryLiveness, the embedded default: one instance, nothing can crash apart);
 * - in Redis (./redis-liveness.ts), as per-instance presence keys each instance heartbeats with a TTL, so the users of
 *   a crashed instance stop counting when its keys expire.
 */

export interface ExpiredUser {
  userId: string;
  /** When the user was last seen (the last heartbeat of the instance that held them), ms since the epoch. */
  lastSeen: number;
}

export interface Liveness {
  /** This instance has the user's first connection; true when no other instance had one (now online). */
  online(userId: string): Promise<boolean>;
  /** This instance's last connection of the user ended; true when no other instance has one (now offline). */
  offline(userId: string): Promise<boolean>;
  /** Whether any instance has a live connection of the user. */
  isLive(userId: string): Promise<boolean>;
  /** Renews this instance's users; returns those that had been dropped (expired, or lost with Redis). */
  heartbeat(userIds: string[]): Promise<string[]>;
  /** Removes the users whose every instance stopped heartbeating (crashed); each is returned to one caller only. */
  takeExpired(max: number): Promise<ExpiredUser[]>;
}

export class MemoryLiveness implements Liveness {
  private readonly live = new Set<string>();

  async online(userId: string): Promise<boolean> {
    const first = !this.live.has(userId);
    this.live.add(userId);
    return first;
  }

  async offline(userId: string): Promise<boolean> {
    return this.live.delete(userId);
  }

  async isLive(userId: string): Promise<boolean> {
    return this.live.has(userId);
  }

  async heartbeat(): Promise<string[]> {
    return [];
  }

  async takeExpired(): Promise<ExpiredUser[]> {
    return [];
  }
}
