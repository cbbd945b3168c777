/**
 * Presence entries, one per awareness client (an editor tab), kept where every instance reads them: in memory
 * (one instance) or in a Redis hash per presentation. Each entry expires unless its instance refreshes it, so the
 * entries of a crashed instance disappear on their own.
 */
import type { Redis } from 'ioredis';
import type { PresenceStatus } from '../../../shared/presence.js';

export interface PresenceEntry {
  clientId: number;
  userId: string;
  name: string;
  color: string;
  status: PresenceStatus;
  slideId: string | null;
  /** ms since the epoch of the last change or refresh */
  updatedAt: number;
  expiresAt: number;
}

export interface PresenceStore {
  put(presentationId: string, entry: PresenceEntry): Promise<void>;
  remove(presentationId: string, clientId: number): Promise<void>;
  list(presentationId: string, now?: number): Promise<PresenceEntry[]>;
}

export class MemoryPresenceStore implements PresenceStore {
  private readonly tables = new Map<string, Map<number, PresenceEntry>>();

  async put(presentationId: string, entry: PresenceEntry): Promise<void> {
    let table = this.tables.get(presentationId);
    if (!table) {
      table = new Map();
      this.tables.set(presentationId, table);
    }
    table.set(entry.clientId, entry);
  }

  async remove(presentationId: string, clientId: number): Promise<void> {
    const table = this.tables.get(presentationId);
    table?.delete(clientId);
    if (table?.size === 0) this.tables.delete(presentationId);
  }

  async list(presentationId: string, now = Date.now()): Promise<PresenceEntry[]> {
    return [...(this.tables.get(presentationId)?.values() ?? [])].filter((e) => e.expiresAt > now);
  }
}

export class RedisPresenceStore implements PresenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(presentationId: string): string {
    return `${this.prefix}:presence:${presentationId}`;
  }

  async put(presentationId: string, entry: PresenceEntry): Promise<void> {
    const key = this.key(presentationId);
    await this.redis
      .multi()
      .hset(key, String(entry.clientId), JSON.stringify(entry))
      .pexpire(key, Math.max(1000, entry.expiresAt - Date.now()) + 60_000)
      .exec();
  }

  async remove(presentationId: string, clientId: number): Promise<void> {
    await this.redis.hdel(this.key(presentationId), String(clientId));
  }

  async list(presentationId: string, now = Date.now()): Promise<PresenceEntry[]> {
    const raw = await this.redis.hgetall(this.key(presentationId));
    const entries: PresenceEntry[] = [];
    const stale: string[] = [];
    for (const [field, value] of Object.entries(raw)) {
      const entry = JSON.parse(value) as PresenceEntry;
      if (entry.expiresAt > now) entries.push(entry);
      else stale.push(field);
    }
    if (stale.length > 0) await this.redis.hdel(this.key(presentationId), ...stale);
    return entries;
  }
}
