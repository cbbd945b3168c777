/**
 * Postgres persistence for Yjs documents as a Hocuspocus extension (design §2).
 *
 * - Client updates are appended by the write path (./write-path.ts) before they are applied and acknowledged.
 * - every change (observeChange, called from ./message-hooks.ts: onChange): updates the server makes itself (direct connections) are appended too, and so are updates relayed by
 *   another instance over Redis (see observeChange); client updates were appended by the write path.
 * - onLoadDocument: snapshot + every remaining log row, read in one statement (./load-document.ts). `catchUp` does
 *   the same for a loaded document that may lag behind another instance (at most once per document per
 *   CATCH_UP_INTERVAL_MS). A client that opens a document still equal to its snapshot is answered with the
 *   snapshot's bytes (beforeHandleMessage, ./snapshot-sync.ts).
 * - compaction from the database, never a write of this instance's in-memory state: once `compactAfterUpdates` rows
 *   were appended for a document on this instance (./compaction-schedule.ts), and when it leaves memory
 *   (beforeUnloadDocument; onStoreDocument too, which Hocuspocus still runs for direct connections and on
 *   shutdown). Client changes schedule no debounced store (./store-scheduling.ts).
 *
 * Departure from design §8: @hocuspocus/extension-database is not used. Its store hands us the whole in-memory
 * state (`encodeStateAsUpdate`, computed on every debounced store), which design §2 forbids writing and which costs
 * O(document) each time; this extension needs neither.
 */
import type {
  afterUnloadDocumentPayload,
  beforeUnloadDocumentPayload,
  Connection,
  Extension,
  onChangePayload,
  onLoadDocumentPayload,
  onStoreDocumentPayload,
} from '@hocuspocus/server';
import { isTransactionOrigin } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import * as Y from 'yjs';
import type { DocumentStore } from '../store/documents.js';
import { applyStored } from './doc-state.js';
import { applyStoredOnLoad } from './load-document.js';
import { CompactionSchedule } from './compaction-schedule.js';
import type { OffThreadMerge } from './off-thread-merge.js';
import { SnapshotSync } from './snapshot-sync.js';
import { StoreUnavailableError, type UpdateLog } from './update-log.js';

/** A lagging document is caught up from Postgres at most this often. */
export const CATCH_UP_INTERVAL_MS = 2000;

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
  /** A loaded document is compacted (by the count above) at most this often; default 10 s. */
  compactIntervalMs?: number;
  /** appendServerUpdate stops waiting after this long (the append itself goes on until it is stored). */
  ackTimeoutMs: number;
  /** Where compaction merges the snapshot and the rows (a worker thread: ./off-thread-merge.ts). */
  merger: Pick<OffThreadMerge, 'merge'>;
}

export class PostgresPersistence implements Extension {
  /** Runs before other extensions (the Redis extension may skip later store hooks when it cannot take its lock). */
  priority = 1000;
  extensionName = 'deckhand-postgres';
  /** Rows appended per document since its last compaction on this instance. */
  private readonly appendedSince = new Map<string, number>();
  /** Compactions by the count of appends (awaited by drain). */
  private readonly schedule: CompactionSchedule;
  /** Server-made appends in flight, awaited by shutdown. */
  private readonly inflight = new Set<Promise<void>>();
  /** When each document was last caught up from the store. */
  private readonly caughtUpAt = new Map<string, number>();
  /** Documents whose state is still their stored snapshot, answered from its bytes (./snapshot-sync.ts). */
  private readonly snapshotSync = new SnapshotSync();
  readonly stats = { loads: 0, compactions: 0, badRows: 0, appendFailures: 0, snapshotSyncs: 0 };

  constructor(private readonly options: PersistenceOptions) {
    this.schedule = new CompactionSchedule({
      afterUpdates: options.compactAfterUpdates,
      intervalMs: options.compactIntervalMs ?? 10_000,
      log: options.log,
      compact: (documentName) => this.compactIfDue(documentName, false),
    });
  }

  async onLoadDocument({ document, documentName }: onLoadDocumentPayload): Promise<void> {
    const stored = await this.options.store.load(documentName);
    this.stats.loads++;
    const skipped = applyStoredOnLoad(document, stored, { source: 'local', skipStoreHooks: true }, this.skippedRow(documentName));
    // Applied whole and alone, the snapshot is the document's state: a client that has nothing gets its bytes.
    if (stored.snapshot !== null && stored.updates.length === 0 && skipped === 0) this.snapshotSync.remember(document, stored.snapshot);
    this.appendedSince.set(documentName, stored.updates.length);
  }

  /**
   * A client opening a document that is still its stored snapshot is answered with the snapshot's bytes (every
   * frame, from ./message-hooks.ts: beforeHandleMessage).
   */
  answerFromSnapshot(connection: Connection, frame: Uint8Array): void {
    if (this.snapshotSync.answer(connection, frame)) this.stats.snapshotSyncs++;
  }

  /** The write path appended a client update: counts towards the next compaction. */
  noteAppended(documentName: string): void {
    this.counted(documentName);
  }

  /**
   * Applies what Postgres holds for a loaded document that it does not have yet (rows another instance stored whose
   * Redis relay has not arrived, or was lost). Returns whether the document changed. Throttled per document.
   */
  async catchUp(documentName: string, document: Y.Doc): Promise<boolean> {
    const now = Date.now();
    if (now - (this.caughtUpAt.get(documentName) ?? 0) < CATCH_UP_INTERVAL_MS) return false;
    this.caughtUpAt.set(documentName, now);
    try {
      const stored = await this.options.store.load(documentName);
      const before = Y.encodeStateVector(document);
      applyStored(document, stored, { source: 'local', skipStoreHooks: true }, this.skippedRow(documentName));
      return !equalBytes(before, Y.encodeStateVector(document));
    } catch (err) {
      this.options.logger.warn({ err, documentName }, 'could not catch a document up from the store');
      return false;
    }
  }

  /**
   * Appends what the write path does not: server transactions, and updates relayed by another instance over Redis.
   * The relayed ones are stored here too (their instance stores them as well; compaction folds the duplicates):
   * this instance has applied them, so the acks it gives for its own clients' edits, which may build on them, wait
   * for them to be durable here too — they could otherwise be lost with their instance if it crashed before its
   * commit, while this instance keeps them in memory and a reconnecting client sees them as stored.
   */
  observeChange({ transactionOrigin, update, documentName }: onChangePayload): void {
    // Client updates were appended by the write path, server transactions that append themselves
    // (markSelfAppended) by their maker, and loads and catch-ups came from the store.
    if (typeof transactionOrigin === 'object' && transactionOrigin !== null && selfAppendedOrigins.has(transactionOrigin)) return;
    if (isTransactionOrigin(transactionOrigin)) {
      if (transactionOrigin.source === 'connection') return;
      if (transactionOrigin.source === 'local' && transactionOrigin.skipStoreHooks) return;
    }
    // Applied but not queued (queue full, shutting down): append marks the document undurable, so no ack on it
    // waits its way to durability until it is loaded again.
    const tracked = this.options.log
      .append(documentName, update)
      .then(() => this.counted(documentName))
      .catch((err) => {
        this.stats.appendFailures++;
        this.options.logger.error({ err, documentName, bytes: update.byteLength }, 'could not store an applied update');
      });
    this.inflight.add(tracked);
    void tracked.finally(() => this.inflight.delete(tracked));
  }

  /**
   * Appends an update the server applied with a markSelfAppended origin: resolves once it is in Postgres. Rejects
   * with StoreUnavailableError when that takes longer than `ackTimeoutMs` (Postgres down): the change stays applied,
   * and the log keeps retrying its append until it is stored.
   */
  async appendServerUpdate(documentName: string, update: Uint8Array): Promise<void> {
    const stored = this.options.log.append(documentName, update);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new StoreUnavailableError(`not stored within ${this.options.ackTimeoutMs} ms; it stays applied and is stored once the database is back`),
          ),
        this.options.ackTimeoutMs,
      );
    });
    try {
      await Promise.race([stored, timeout]);
    } finally {
      clearTimeout(timer);
    }
    this.counted(documentName);
  }

  async onStoreDocument({ documentName, document }: onStoreDocumentPayload): Promise<void> {
    // The payload's clientsCount is from the time of the change; whether the document is leaving memory is now.
    await this.compactIfDue(documentName, document.getConnectionsCount() === 0);
  }

  /** A document leaving memory is compacted on its way out (after a compaction still running for it). */
  async beforeUnloadDocument({ documentName }: beforeUnloadDocumentPayload): Promise<void> {
    await this.schedule.leaving(documentName);
    await this.compactIfDue(documentName, true);
  }

  async afterUnloadDocument({ documentName, instance }: afterUnloadDocumentPayload): Promise<void> {
    // Loaded again meanwhile (a fast reconnect): the new copy's state is not this one's to forget.
    if (instance.documents.has(documentName)) return;
    this.appendedSince.delete(documentName);
    this.caughtUpAt.delete(documentName);
    this.schedule.forget(documentName);
    this.options.log.forget(documentName);
  }

  async compact(documentName: string): Promise<number> {
    this.appendedSince.set(documentName, 0);
    try {
      const folded = await this.options.store.compact(documentName, async (stored) => {
        const { merged, badRows } = await this.options.merger.merge(stored);
        for (const { index, message } of badRows) {
          this.stats.badRows++;
          this.options.logger.error({ documentName, row: index, err: { message } }, 'compaction dropped an undecodable update');
        }
        return merged;
      });
      this.stats.compactions++;
      return folded;
    } catch (err) {
      // The log still holds every row: nothing is lost, the next store tries again.
      this.options.logger.warn({ err, documentName }, 'compaction failed');
      this.bump(documentName);
      throw err;
    }
  }

  /** Waits for server-made appends and compactions still in flight. */
  async drain(): Promise<void> {
    for (;;) {
      const pending = [...this.inflight, ...this.schedule.inFlight];
      if (pending.length === 0) return;
      await Promise.allSettled(pending);
    }
  }

  /**
   * Compacts when rows were appended since the last compaction and the document leaves memory, or when enough were.
   * A failed compaction is logged and retried later; it never pins the document in memory, since every row it
   * would have folded is already safe in the log.
   */
  private async compactIfDue(documentName: string, unloading: boolean): Promise<void> {
    const appended = this.appendedSince.get(documentName) ?? 0;
    if (appended === 0 || (!unloading && appended < this.options.compactAfterUpdates)) return;
    await this.compact(documentName).catch(() => {});
  }

  /** One more row appended for the document: counts towards its next compaction (./compaction-schedule.ts). */
  private counted(documentName: string): void {
    this.bump(documentName);
    this.schedule.counted(documentName, this.appendedSince.get(documentName) ?? 0);
  }

  /** Reports a stored row that could not be decoded and was skipped (load and catch-up). */
  private skippedRow(documentName: string): (index: number, err: unknown) => void {
    return (index, err) => {
      this.stats.badRows++;
      this.options.logger.error({ documentName, row: index, err }, 'skipped an undecodable stored update');
    };
  }

  private bump(documentName: string): void {
    this.appendedSince.set(documentName, (this.appendedSince.get(documentName) ?? 0) + 1);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}
