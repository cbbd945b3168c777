/**
 * Presence from awareness, for dashboards without Yjs: each instance records the awareness clients of its own
 * connections (user, status, current slide) in the PresenceStore and announces joins, leaves and changes of status
 * or slide on the bus channel `presence.{presentationId}` (the notifications socket relays it to subscribers).
 * Cursor moves are not presence changes: only `presence.status` and `presence.slide_id` are, so the store and the
 * bus see a write per change of those (plus a refresh every 30 s), not per keystroke.
 */
import type { afterUnloadDocumentPayload, Extension, onAwarenessUpdatePayload } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import { presenceChannel } from '../../../shared/channels.js';
import { isSlideId } from '../../../shared/locks.js';
import { normalizeStatus, type PresenceEvent, type PresenceSnapshot, type PresenceStatus, type PresenceUser } from '../../../shared/presence.js';
import { presentationIdOf } from '../../../shared/presentation.js';
import type { Bus } from '../../bus/types.js';
import type { PresenceEntry, PresenceStore } from './presence-store.js';

const REFRESH_MS = 30_000;
const ENTRY_TTL_MS = 90_000;
const STATUS_RANK: Record<PresenceStatus, number> = { active: 3, idle: 2, away: 1 };

interface AwarenessState {
  user?: { id?: unknown; name?: unknown; color?: unknown };
  presence?: { slide_id?: unknown; status?: unknown };
}

export class PresenceTracker implements Extension {
  extensionName = 'deckhand-presence';
  /** presentation id → awareness client id → entry, for the clients of this instance's connections */
  private readonly owned = new Map<string, Map<number, PresenceEntry>>();
  /** Per-presentation chain, so store writes and events keep the order of awareness changes. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly refresher: NodeJS.Timeout;

  constructor(
    private readonly store: PresenceStore,
    private readonly bus: Bus,
    private readonly logger: FastifyBaseLogger,
  ) {
    this.refresher = setInterval(() => this.refresh(), REFRESH_MS);
    this.refresher.unref();
  }

  async onAwarenessUpdate({ documentName, added, updated, removed, connection, awareness }: onAwarenessUpdatePayload): Promise<void> {
    const presentationId = presentationIdOf(documentName);
    if (!presentationId) return;
    const states = awareness.getStates();
    const changes: Array<{ clientId: number; state: AwarenessState | null }> = [];
    // States relayed from other instances are recorded by those instances.
    if (connection)
      for (const clientId of [...added, ...updated]) changes.push({ clientId, state: (states.get(clientId) as AwarenessState) ?? null });
    for (const clientId of removed) if (this.owned.get(presentationId)?.has(clientId)) changes.push({ clientId, state: null });
    if (changes.length > 0) this.enqueue(presentationId, () => this.apply(presentationId, changes));
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    const presentationId = presentationIdOf(documentName);
    const owned = presentationId ? this.owned.get(presentationId) : undefined;
    if (!presentationId || !owned) return;
    const changes = [...owned.keys()].map((clientId) => ({ clientId, state: null }));
    this.enqueue(presentationId, () => this.apply(presentationId, changes));
  }

  async onDestroy(): Promise<void> {
    clearInterval(this.refresher);
  }

  /** Everyone connected to a presentation, on every instance, one row per user. */
  async snapshot(presentationId: string): Promise<PresenceSnapshot> {
    const byUser = new Map<string, PresenceEntry[]>();
    for (const entry of await this.store.list(presentationId)) {
      const list = byUser.get(entry.userId) ?? [];
      list.push(entry);
      byUser.set(entry.userId, list);
    }
    const users: PresenceUser[] = [...byUser.values()].map((entries) => {
      const latest = entries.reduce((a, b) => (b.updatedAt > a.updatedAt ? b : a));
      const status = entries.reduce<PresenceStatus>((s, e) => (STATUS_RANK[e.status] > STATUS_RANK[s] ? e.status : s), 'away');
      return {
        user_id: latest.userId,
        name: latest.name,
        color: latest.color,
        status,
        slide_id: latest.slideId,
        connections: entries.length,
        last_active_at: new Date(latest.updatedAt).toISOString(),
      };
    });
    users.sort((a, b) => a.user_id.localeCompare(b.user_id));
    return { presentation_id: presentationId, users, timestamp: new Date().toISOString() };
  }

  private enqueue(presentationId: string, work: () => Promise<void>): void {
    const previous = this.chains.get(presentationId) ?? Promise.resolve();
    const next = previous.then(work).catch((err: unknown) => this.logger.warn({ err, presentationId }, 'presence update failed'));
    this.chains.set(presentationId, next);
    void next.finally(() => {
      if (this.chains.get(presentationId) === next) this.chains.delete(presentationId);
    });
  }

  private async apply(presentationId: string, changes: Array<{ clientId: number; state: AwarenessState | null }>): Promise<void> {
    let owned = this.owned.get(presentationId);
    if (!owned) {
      owned = new Map();
      this.owned.set(presentationId, owned);
    }
    const now = Date.now();
    for (const { clientId, state } of changes) {
      const previous = owned.get(clientId);
      const user = state?.user;
      if (!state || typeof user?.id !== 'string') {
        if (!previous) continue;
        owned.delete(clientId);
        await this.store.remove(presentationId, clientId);
        const stillHere = (await this.store.list(presentationId)).some((e) => e.userId === previous.userId);
        if (!stillHere) await this.announce(presentationId, 'user_left', previous, null);
        continue;
      }
      const slideId = isSlideId(state.presence?.slide_id) ? (state.presence?.slide_id as string) : null;
      const status = normalizeStatus(state.presence?.status);
      const changed = !previous || previous.status !== status || previous.slideId !== slideId;
      if (!changed && now - previous.updatedAt < REFRESH_MS) continue;
      const entry: PresenceEntry = {
        clientId,
        userId: user.id,
        name: typeof user.name === 'string' ? user.name : user.id,
        color: typeof user.color === 'string' ? user.color : '#888888',
        status,
        slideId,
        updatedAt: now,
        expiresAt: now + ENTRY_TTL_MS,
      };
      const joined = !previous && !(await this.store.list(presentationId)).some((e) => e.userId === entry.userId);
      owned.set(clientId, entry);
      await this.store.put(presentationId, entry);
      if (joined) await this.announce(presentationId, 'user_joined', entry, entry);
      else if (changed) await this.announce(presentationId, 'presence_update', entry, entry);
    }
    if (owned.size === 0) this.owned.delete(presentationId);
  }

  private async announce(presentationId: string, type: PresenceEvent['type'], who: PresenceEntry, now: PresenceEntry | null): Promise<void> {
    const event: PresenceEvent = {
      type,
      presentation_id: presentationId,
      user: { user_id: who.userId, name: who.name, color: who.color },
      status: now?.status ?? null,
      slide_id: now?.slideId ?? null,
      timestamp: new Date().toISOString(),
    };
    await this.bus.publish(presenceChannel(presentationId), JSON.stringify(event));
  }

  /** Keeps this instance's entries from expiring while their clients stay connected. */
  private refresh(): void {
    const now = Date.now();
    for (const [presentationId, owned] of this.owned) {
      this.enqueue(presentationId, async () => {
        for (const entry of owned.values()) {
          entry.expiresAt = now + ENTRY_TTL_MS;
          await this.store.put(presentationId, entry);
        }
      });
    }
  }
}
