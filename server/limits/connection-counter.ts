/**
 * Connections per user per endpoint kind (at most WEBSOCKET_MAX_CONNECTIONS_PER_USER, default 5), counted across every
 * instance when REDIS_URL is set (./redis-counter.ts) and in this process otherwise (./memory-counter.ts).
 *
 * A kind is any short name: the realtime endpoints use `generation-ws`, `generation-sse`, `notifications-ws`,
 * `notifications-sse`; the collaboration route may use its own (e.g. `collab`). Each kind has its own count.
 *
 * Guarantees:
 * - `acquire` is atomic: with N concurrent attempts and M free slots, at most M succeed, whichever instance they
 *   reach (Redis: one Lua script per attempt).
 * - A slot is held until its release function is called (idempotent) or, with Redis, until its instance stops
 *   refreshing it: an instance that dies (kill -9, partition) frees its slots within the slot TTL (15 s by default).
 * - When Redis cannot be reached, the count degrades to this instance's own connections (the limit still holds per
 *   instance) instead of refusing everyone; slots taken meanwhile are counted in Redis once it is back.
 */
export interface ConnectionCounter {
  readonly kind: 'memory' | 'redis';
  /** The default limit per user per kind. */
  readonly maxPerUser: number;
  /**
   * Takes a slot for `userId` on endpoint kind `kind`; resolves with its release function (idempotent), or null when
   * the user already holds `max` slots of that kind (on every instance). Never rejects.
   */
  acquire(kind: string, userId: string, max?: number): Promise<(() => void) | null>;
  /** Slots the user holds for `kind` (every instance when shared; diagnostics and tests). */
  count(kind: string, userId: string): Promise<number>;
  /** Releases every slot of this instance and stops refreshing. */
  close(): Promise<void>;
}
