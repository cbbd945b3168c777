/**
 * Client id ownership for the write guard and awareness (store: document_clients). A Yjs client id belongs to the
 * first user who used it in the document; the owners of a loaded document are cached on the instance (an owner
 * never changes, so the cache is never stale), so only the first use of an id on an instance costs a query.
 */
import type { afterUnloadDocumentPayload, Extension } from '@hocuspocus/server';
import * as Y from 'yjs';
import type { DocumentClientStore } from '../store/document-clients.js';
import type { DecodedUpdate } from './guard/decoded-update.js';
import { StoreUnavailableError } from './update-log.js';

/**
 * More client ids than this, unclaimed, in one update are not claimed (the update is refused): a provider writes
 * under its own one (Yjs may pick a new one on a collision), so only a forger needs more, and each would be a row.
 */
export const MAX_NEW_CLIENT_IDS_PER_UPDATE = 8;

export class ClientOwners implements Extension {
  extensionName = 'deckhand-client-owners';
  /** document name → client id → owning user */
  private readonly owners = new Map<string, Map<number, string>>();

  constructor(private readonly store: DocumentClientStore) {}

  /** Claims what is unclaimed for `userId`; returns the ids among `clientIds` that belong to someone else. */
  async foreign(documentName: string, clientIds: Iterable<number>, userId: string): Promise<Set<number>> {
    let known = this.owners.get(documentName);
    if (!known) {
      known = new Map();
      this.owners.set(documentName, known);
    }
    const unknown = [...clientIds].filter((id) => !known.has(id));
    if (unknown.length > MAX_NEW_CLIENT_IDS_PER_UPDATE) return new Set(unknown);
    if (unknown.length > 0) {
      let claimed: Map<number, string>;
      try {
        claimed = await this.store.claim(documentName, unknown, userId);
      } catch (err) {
        throw new StoreUnavailableError('could not claim client ids', { cause: err });
      }
      for (const [id, owner] of claimed) known.set(id, owner);
    }
    const foreign = new Set<number>();
    for (const id of clientIds) if (known.get(id) !== userId) foreign.add(id);
    return foreign;
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.owners.delete(documentName);
  }
}

/** Client ids with structs in the update that the document does not have yet (the ones the update writes under). */
export function writtenClients(doc: Y.Doc, update: DecodedUpdate): number[] {
  const written: number[] = [];
  for (const [client, structs] of update.clients) {
    const last = structs[structs.length - 1];
    if (last && last.id.clock + last.length > Y.getState(doc.store, client)) written.push(client);
  }
  return written;
}
