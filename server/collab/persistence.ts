/**
 * Postgres persistence for Yjs documents as a Hocuspocus extension (design §2).
 *
 * - beforeSync (awaited by Hocuspocus before it applies a SyncStep2/Update and before it acks with SyncStatus):
 *   validate the update and append it to the log. So every acknowledged edit is in Postgres.
 * - onChange: updates the server makes itself (direct connections, lock rollbacks) are appended too; updates from
 *   client connections were appended in beforeSync, and updates from Redis were appended by their own instance.
 * - onLoadDocument: snapshot + every remaining log row, read in one statement.
 * - onStoreDocument (Hocuspocus' debounced store): compaction from the database when enough rows piled up or the
 *   document is about to leave memory; never a write of this instance's in-memory state.
 *
 * Departure from design §8: @hocuspocus/extension-database is not used. Its store hands us the whole in-memory
 * state (`encodeStateAsUpdate`, computed on every debounced store), which design §2 forbids writing and which costs
 * O(document) each time; this extension needs neither.
 */
import type {
  beforeSyncPayload,
  Extension,
  onChangePayload,
  onLoadDocumentPayload,
  onStoreDocumentPayload,
} from '@hocuspocus/server';
import { isTransactionOrigin } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import { messageYjsSyncStep2, messageYjsUpdate } from 'y-protocols/sync';
import type { DocumentStore } from '../store/documents.js';
import { applyStored, assertValidUpdate, isEmptyUpdate, mergeStored } from './doc-state.js';
import { StoreUnavailableError, type UpdateLog } from './update-log.js';

export class InvalidUpdateError extends Error {
  /** Hocuspocus closes the document connection with this code (1007: invalid payload data). */
  readonly code = 1007;
  readonly reason = 'INVALID_MESSAGE: malformed Yjs update';
}

/**
 * Origins of server transactions whose update their maker appends itself, and awaits, with appendServerUpdate
 * (the JSON operations of server/documents: durable before they are acknowledged). onChange does not append them a
 * second time; the store hooks (compaction) and the Redis fan-out still run for them.
 */
const selfAppendedOrigins = new WeakSet<object>();

export function markSelfAppended<T extends object>(origin: T): T {
  selfAppendedOrigins.add(origin);
  return origin;
}

export interface PersistenceOptions {
  store: DocumentStore;
  log: UpdateLog;
  logger: FastifyBaseLogger;
  /** Compact once this many rows were appended by this instance since the last compaction. */
  compactAfterUpdates: number;
}

export class PostgresPersistence implements Extension {
  /** Runs before other extensions (the Redis extension may skip later store hooks when it cannot take its lock). */
  priority = 1000;
  extensionName = 'deckhand-postgres';
  /** Rows appended per document since its last compaction on this instance. */
  private readonly appendedSince = new Map<string, number>();
  /** Server-made appends in flight, awaited by shutdown. */
  private readonly inflight = new Set<Promise<void>>();
  readonly stats = { loads: 0, compactions: 0, badRows: 0, appendFailures: 0 };

  constructor(private readonly options: PersistenceOptions) {}

  async onLoadDocument({ document, documentName }: onLoadDocumentPayload): Promise<void> {
    const stored = await this.options.store.load(documentName);
    this.stats.loads++;
    applyStored(document, stored, { source: 'local', skipStoreHooks: true }, (index, err) => {
      this.stats.badRows++;
      this.options.logger.error({ documentName, row: index, err }, 'skipped an undecodable stored update');
    });
    this.appendedSince.set(documentName, stored.updates.length);
  }

  async beforeSync({ type, payload, connection, documentName }: beforeSyncPayload): Promise<void> {
    if (type !== messageYjsSyncStep2 && type !== messageYjsUpdate) return;
    if (connection.readOnly) return; // Hocuspocus refuses it (SyncStatus false); nothing is applied.
    if (isEmptyUpdate(payload)) return;
    try {
      assertValidUpdate(payload);
    } catch {
      // Not applied, not stored, not acknowledged; the offender's socket is closed (1007).
      const error = new InvalidUpdateError('malformed Yjs update');
      connection.webSocket.close(error.code, error.reason);
      throw error;
    }
    try {
      await this.options.log.append(documentName, payload);
    } catch (err) {
      // Close the whole socket with "try again later": the provider reconnects with backoff and re-sends its
      // unacknowledged edits (a per-document close would leave it idle on this document).
      if (err instanceof StoreUnavailableError) connection.webSocket.close(err.code, err.reason);
      throw err;
    }
    this.bump(documentName);
  }

  async onChange({ transactionOrigin, update, documentName }: onChangePayload): Promise<void> {
    // Client updates were appended in beforeSync; Redis updates by the instance that received them.
    if (typeof transactionOrigin === 'object' && transactionOrigin !== null && selfAppendedOrigins.has(transactionOrigin)) return;
    if (isTransactionOrigin(transactionOrigin)) {
      if (transactionOrigin.source !== 'local' || transactionOrigin.skipStoreHooks) return;
    }
    const write = this.options.log
      .append(documentName, update)
      .then(() => this.bump(documentName))
      .catch((err) => {
        this.stats.appendFailures++;
        this.options.logger.error({ err, documentName, bytes: update.byteLength }, 'could not store a server-made update');
      });
    this.inflight.add(write);
    void write.finally(() => this.inflight.delete(write));
  }

  /** Appends an update the server applied with a markSelfAppended origin: resolves once it is in Postgres. */
  async appendServerUpdate(documentName: string, update: Uint8Array): Promise<void> {
    await this.options.log.append(documentName, update);
    this.bump(documentName);
  }

  async onStoreDocument({ documentName, document }: onStoreDocumentPayload): Promise<void> {
    const appended = this.appendedSince.get(documentName) ?? 0;
    // The payload's clientsCount is from the time of the change; whether the document is leaving memory is now.
    const unloading = document.getConnectionsCount() === 0;
    if (appended === 0 || (!unloading && appended < this.options.compactAfterUpdates)) return;
    // A failed compaction is logged and retried later; it must not pin the document in memory, since every
    // row it would have folded is already safe in the log.
    await this.compact(documentName).catch(() => {});
  }

  async afterUnloadDocument({ documentName }: { documentName: string }): Promise<void> {
    this.appendedSince.delete(documentName);
  }

  async compact(documentName: string): Promise<number> {
    this.appendedSince.set(documentName, 0);
    try {
      const folded = await this.options.store.compact(documentName, (stored) =>
        mergeStored(stored, (index, err) => {
          this.stats.badRows++;
          this.options.logger.error({ documentName, row: index, err }, 'compaction dropped an undecodable update');
        }),
      );
      this.stats.compactions++;
      return folded;
    } catch (err) {
      // The log still holds every row: nothing is lost, the next store tries again.
      this.options.logger.warn({ err, documentName }, 'compaction failed');
      this.bump(documentName);
      throw err;
    }
  }

  /** Waits for server-made appends still in flight. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private bump(documentName: string): void {
    this.appendedSince.set(documentName, (this.appendedSince.get(documentName) ?? 0) + 1);
  }
}
