/**
 * Client id ownership for the write guard and awareness (store: document_clients). A Yjs client id belongs to the
 * first user who used it in the document; the owners of a loaded document are cached on the instance (an owner
 * never changes, so the cache is never stale), so only the first use of an id on an instance costs a query.
 *
 * Every claim is a row for good, so a user claims at most `limit.max` new ids in a document per `limit.windowMs`,
 * counted in Postgres (every instance's claims). Past it, its new ids stay unclaimed: awareness drops their states
 * and the write guard refuses updates under them. Once the store says a user is at its cap, this instance does not
 * ask again until the user's oldest claim leaves the window (no claim can succeed before: other instances' claims
 * only add to the count). One warning per user and document per window on this instance.
 */
import type { afterUnloadDocumentPayload, Extension, onLoadDocumentPayload } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import * as map from 'lib0/map';
import * as random from 'lib0/random';
import * as Y from 'yjs';
import { UNCAPPED, type ClaimLimit, type DocumentClientStore } from '../store/document-clients.js';
import type { DecodedUpdate } from './guard/decoded-update.js';
import { MAX_USER_ID_LENGTH } from '../auth/jwt.js';
import { StoreUnavailableError } from './update-log.js';

/**
 * Who owns the client ids the server itself writes under (each instance's Y.Doc of a loaded document: JSON
 * operations, restores, migrations). Longer than any token's `sub`, so no user is it, and no connection may write
 * under those ids: a collaborator on one instance could otherwise write under another instance's id at its next
 * clock, and the instances would hold two different structs under one id.
 */
export const SERVER_OWNER = `deckhand:server:${'-'.repeat(MAX_USER_ID_LENGTH)}`;

/** A new random id is tried this many times when the one Yjs drew is someone's already (a 1 in 2^32 chance). */
const SERVER_ID_ATTEMPTS = 5;

/**
 * More client ids than this, unclaimed, in one update are not claimed (the update is refused): a provider writes
 * under its own one (Yjs may pick a new one on a collision), so only a forger needs more, and each would be a row.
 */
export const MAX_NEW_CLIENT_IDS_PER_UPDATE = 8;

export interface ClientIdCheck {
  /** The ids that are not the user's: another user's, or nobody's (not claimed for it). */
  notOwned: Set<number>;
  /** Of those, the ones nobody owns that the user may not claim now: it claimed its cap of new ids in the window. */
  overCap: Set<number>;
}

/** A user at its cap in a document, on this instance. */
interface CappedUser {
  /** Date.now() from which a claim may succeed again. */
  until: number;
  /** Date.now() of the last warning logged. */
  warnedAt: number | null;
}

export class ClientOwners implements Extension {
  extensionName = 'deckhand-client-owners';
  /** After persistence (which loads the stored state), before anything the server writes. */
  priority = 900;
  /** document name → client id → owning user */
  private readonly owners = new Map<string, Map<number, string>>();
  /** document name → user id → at its cap */
  private readonly capped = new Map<string, Map<string, CappedUser>>();
  /** New client ids left unclaimed because their user was at its cap. */
  readonly stats = { claimsRefused: 0 };

  constructor(
    private readonly store: DocumentClientStore,
    private readonly limit: ClaimLimit,
    private readonly logger?: FastifyBaseLogger,
  ) {}

  /** Claims what is unclaimed for `userId` (within its cap); says which of `clientIds` are not its own. */
  async check(documentName: string, clientIds: Iterable<number>, userId: string): Promise<ClientIdCheck> {
    const known = this.ownersOf(documentName);
    const ids = [...new Set(clientIds)];
    const unknown = ids.filter((id) => !known.has(id));
    const overCap = new Set<number>();
    if (unknown.length > MAX_NEW_CLIENT_IDS_PER_UPDATE) return { notOwned: new Set(unknown), overCap };
    if (unknown.length > 0) {
      try {
        for (const id of await this.claim(documentName, unknown, userId, known)) overCap.add(id);
      } catch (err) {
        throw new StoreUnavailableError('could not claim client ids', { cause: err });
      }
    }
    const notOwned = new Set(ids.filter((id) => known.get(id) !== userId));
    return { notOwned, overCap };
  }

  /** Learns the owners of `unknown` into `known`, claiming the free ones the cap allows; returns those it left free. */
  private async claim(documentName: string, unknown: number[], userId: string, known: Map<number, string>): Promise<number[]> {
    // At its cap (known here): ids claimed earlier, here or on another instance, are still looked up; none claimed.
    const capped = this.capped.get(documentName)?.get(userId);
    const cappedHere = capped !== undefined && Date.now() < capped.until;
    const result = await this.store.claim(documentName, unknown, userId, cappedHere ? null : this.limit);
    for (const [id, owner] of result.owners) known.set(id, owner);
    if (result.cappedForMs !== null) this.noteCapped(documentName, userId, result.cappedForMs);
    // Left free below the cap: claimed by another user in the same instant (its owner is learnt on the next use).
    const left = unknown.filter((id) => !known.has(id));
    if (!(cappedHere || result.cappedForMs !== null) || left.length === 0) return [];
    this.refused(documentName, userId, left.length);
    return left;
  }

  private noteCapped(documentName: string, userId: string, forMs: number): void {
    const users = map.setIfUndefined(this.capped, documentName, () => new Map<string, CappedUser>());
    map.setIfUndefined(users, userId, (): CappedUser => ({ until: 0, warnedAt: null })).until = Date.now() + forMs;
  }

  private refused(documentName: string, userId: string, count: number): void {
    this.stats.claimsRefused += count;
    const entry = this.capped.get(documentName)?.get(userId);
    const now = Date.now();
    if (entry && entry.warnedAt !== null && now - entry.warnedAt < this.limit.windowMs) return;
    if (entry) entry.warnedAt = now;
    this.logger?.warn(
      { documentName, userId, refused: count, maxNewClientIds: this.limit.max, windowMs: this.limit.windowMs },
      'a user reached its cap of new client ids in a document: its states under new ids are dropped and updates under them refused (not logged again for this user and document within the window)',
    );
  }

  /** Claims the id the server writes under in the document it just loaded, before any connection can use it. */
  async onLoadDocument({ document, documentName }: onLoadDocumentPayload): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let owner: string;
      try {
        const { owners } = await this.store.claim(documentName, [document.clientID], SERVER_OWNER, UNCAPPED);
        owner = owners.get(document.clientID) ?? SERVER_OWNER;
      } catch (err) {
        throw new StoreUnavailableError('could not claim the server client id', { cause: err });
      }
      this.ownersOf(documentName).set(document.clientID, owner);
      if (owner === SERVER_OWNER) return;
      if (attempt === SERVER_ID_ATTEMPTS) throw new Error('no free client id for the server in this document');
      document.clientID = random.uint32();
    }
  }

  private ownersOf(documentName: string): Map<number, string> {
    return map.setIfUndefined(this.owners, documentName, () => new Map<number, string>());
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.owners.delete(documentName);
    this.capped.delete(documentName);
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
