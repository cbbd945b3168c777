/**
 * WEBSOCKET_MAX_CONNECTIONS_PER_USER on /collab: a socket takes one `collab` slot per user from the shared connection
 * counter (across instances when REDIS_URL is set) when it first authenticates a document for that user, and gives
 * it back when the socket closes. Documents multiplexed on one socket share its slot, so one editor tab with many
 * decks open counts once.
 */
import type { ConnectionCounter } from '../limits/index.js';

export const COLLAB_SLOT_KIND = 'collab';

export class SocketSlots {
  /** socket key → user id → release */
  private readonly slots = new Map<string, Map<string, () => void>>();
  private readonly closed = new Set<string>();

  constructor(private readonly counter: ConnectionCounter) {}

  /** True when the socket holds (or just took) a slot for the user; false when the user is at the limit. */
  async admit(socketKey: string, userId: string): Promise<boolean> {
    if (this.slots.get(socketKey)?.has(userId)) return true;
    const release = await this.counter.acquire(COLLAB_SLOT_KIND, userId);
    if (!release) return false;
    if (this.closed.has(socketKey)) {
      // The socket closed while the slot was being taken.
      release();
      return false;
    }
    let bySocket = this.slots.get(socketKey);
    if (!bySocket) {
      bySocket = new Map();
      this.slots.set(socketKey, bySocket);
    }
    bySocket.get(userId)?.();
    bySocket.set(userId, release);
    return true;
  }

  /** The socket closed: every slot it held is released. */
  release(socketKey: string): void {
    this.closed.add(socketKey);
    setTimeout(() => this.closed.delete(socketKey), 60_000).unref();
    for (const release of this.slots.get(socketKey)?.values() ?? []) release();
    this.slots.delete(socketKey);
  }
}
