/**
 * Server-side awareness stamping (design §1): every awareness state a client sends gets `user = {id, name, color}`
 * from its verified token, so nobody can impersonate another user. A connection may only speak for the awareness
 * client ids it introduced itself or that belong to the same user (a reconnecting provider keeps its client id
 * while the server may not have noticed the old socket drop); an id held by another user is dropped. An awareness
 * client id is also the provider's document client id: introducing one claims it for the user in the document
 * (./client-owners.ts), so nobody else can write under it, even before its owner's first edit; a new id the user
 * may not claim (its cap of new ids in the document) is dropped too, while its ids claimed earlier keep working. So
 * is a state under an id the document's awareness shows for another user right now (a JSON client's id is never
 * claimed; a connection on another instance is not in this instance's table). The number of ids per connection and
 * the size of a state are bounded.
 */
import type { beforeHandleAwarenessPayload, Connection, Extension, onDisconnectPayload } from '@hocuspocus/server';
import { colourFor } from '../../shared/colour.js';
import { awarenessClientsOf } from './awareness-frame.js';
import type { ClientOwners } from './client-owners.js';
import { isCollabContext } from './context.js';

export interface AwarenessUser {
  id: string;
  name: string;
  color: string;
}

export interface AwarenessGuardOptions {
  maxClientIdsPerConnection: number;
  maxStateBytes: number;
}

export class AwarenessStamp implements Extension {
  priority = 800;
  extensionName = 'deckhand-awareness';
  /** document name → awareness client id → owning socket and user */
  private readonly owners = new Map<string, Map<number, { socketId: string; userId: string }>>();
  readonly stats = { dropped: 0 };
  /** The client ids of the awareness frame each connection is handling (./awareness-frame.ts). */
  private readonly sent = new WeakMap<Connection, Set<number>>();

  constructor(
    private readonly clientOwners?: ClientOwners,
    private readonly options: AwarenessGuardOptions = { maxClientIdsPerConnection: 4, maxStateBytes: 16 * 1024 },
  ) {}

  /** Every frame of a document connection, before Hocuspocus handles it (./message-hooks.ts: beforeHandleMessage). */
  noteFrame(connection: Connection, frame: Uint8Array): void {
    const clients = awarenessClientsOf(frame);
    if (clients) this.sent.set(connection, clients);
  }

  async beforeHandleAwareness({ states, connection, context, document, documentName }: beforeHandleAwarenessPayload): Promise<void> {
    // States relayed from another instance (Redis) were stamped there.
    if (!connection || !isCollabContext(context)) return;
    // Only what the client sent: Hocuspocus' scratch awareness adds a state of its own (./awareness-frame.ts).
    const sent = this.sent.get(connection);
    this.sent.delete(connection);
    if (sent) for (const clientId of states.keys()) if (!sent.has(clientId)) states.delete(clientId);
    const socketId = connection.socketId;
    let owners = this.owners.get(documentName);
    if (!owners) {
      owners = new Map();
      this.owners.set(documentName, owners);
    }
    const userId = context.principal.userId;
    let owned = 0;
    for (const owner of owners.values()) if (owner.socketId === socketId) owned++;

    const user: AwarenessUser = {
      id: userId,
      name: context.principal.name,
      color: colourFor(context.principal.userId),
    };
    // A state the document shows under an id, stamped for another user: a connection elsewhere (relayed) or a JSON
    // client (server-side, its id never claimed) holds that id now, whatever the claims say.
    const shownForOther = (clientId: number) => {
      const shown = (document.awareness.getStates().get(clientId) as { user?: { id?: unknown } } | undefined)?.user?.id;
      return shown !== undefined && shown !== userId;
    };
    // Ids this connection introduces now (at most what its cap leaves) are claimed for the user in the document.
    const introduced = new Set(
      [...states.keys()]
        .filter((id) => owners.get(id)?.socketId !== socketId && !shownForOther(id))
        .slice(0, Math.max(0, this.options.maxClientIdsPerConnection - owned)),
    );
    const notOwned = await this.claim(documentName, [...introduced], userId);
    for (const [clientId, state] of states) {
      const owner = owners.get(clientId);
      if ((owner && owner.userId !== userId) || notOwned.has(clientId) || shownForOther(clientId)) {
        states.delete(clientId);
        this.stats.dropped++;
        continue;
      }
      if (owner?.socketId !== socketId) {
        // Only the ids checked above may be new to this connection: one past its cap was never claimed nor looked up
        // (behind ids the claim refused, it would otherwise take their places unchecked, even another user's id).
        if (!introduced.has(clientId) || owned >= this.options.maxClientIdsPerConnection) {
          states.delete(clientId);
          this.stats.dropped++;
          continue;
        }
        owners.set(clientId, { socketId, userId });
        owned++;
      }
      if (state === null || typeof state !== 'object') continue;
      if (JSON.stringify(state).length > this.options.maxStateBytes) {
        // Too large to relay: keep only who it is, so presence still works.
        states.set(clientId, { user });
        this.stats.dropped++;
        continue;
      }
      (state as Record<string, unknown>).user = user;
    }
  }

  /**
   * Claims the ids for the user; the ones that are not its own (someone else's, or new ones past its cap). Presence
   * never fails on the store.
   */
  private async claim(documentName: string, clientIds: number[], userId: string): Promise<Set<number>> {
    if (!this.clientOwners || clientIds.length === 0) return new Set();
    try {
      return (await this.clientOwners.check(documentName, clientIds, userId)).notOwned;
    } catch {
      return new Set();
    }
  }

  async onDisconnect({ documentName, socketId }: onDisconnectPayload): Promise<void> {
    const owners = this.owners.get(documentName);
    if (!owners) return;
    for (const [clientId, owner] of owners) if (owner.socketId === socketId) owners.delete(clientId);
    if (owners.size === 0) this.owners.delete(documentName);
  }
}
