/**
 * Durable appends with group commit, and the durability watermark that acknowledgements wait for.
 *
 * Every append gets a sequence number. Appends are taken in that order: while INSERTs are in flight, later appends
 * (from any connection or document) queue up and go out together in the next INSERT, so an idle server adds no
 * batching delay and a busy one does one round trip per batch instead of per update. Up to MAX_IN_FLIGHT batches are
 * written at once (on their own connections), so an append that arrives while a batch commits waits for its own
 * commit, not for that one's and then its own. Batches may commit out of order; `committed` is the highest sequence
 * number below which everything is in Postgres, and an append is reported written (`settle`) only once `committed`
 * has passed it, so nothing is reported stored while an append it may build on is not.
 *
 * What is appended here has already been applied in memory (and broadcast), or is about to be. So a failed INSERT
 * is never given up while the server runs: it is retried with backoff (at most every 2 s) until it succeeds, and
 * later batches wait behind it. Only `close()` (shutdown) gives up what is left; those edits were never acknowledged
 * and their clients still hold them. The queue is bounded in bytes (each entry counted with ENTRY_COST_BYTES more):
 * past `maxQueuedBytes`, `enqueue` refuses at once.
 *
 * `requiredFor(document)` is the sequence number that must be committed before the document's in-memory state is
 * durable on this instance: its last append. A document whose applied change could not even be queued is never
 * durable again (Infinity) until it leaves memory (`forget`).
 */
import type { DocumentStore, UpdateRow } from '../store/documents.js';
import { MAX_ROWS_PER_INSERT } from '../store/documents.js';

interface PendingAppend extends UpdateRow {
  seq: number;
  settle?: (err?: Error) => void;
}

/** A batch taken from the queue, until every batch before it is done too. */
interface TakenBatch {
  batch: PendingAppend[];
  cost: number;
  outcome?: 'written' | 'given-up';
}

/** Batches written at once: one committing while the next is sent (group commit keeps each one large under load). */
const MAX_IN_FLIGHT = 2;

export class StoreUnavailableError extends Error {
  /** Hocuspocus closes the document connection with this code: "try again later". */
  readonly code = 1013;
  readonly reason = 'store unavailable, reconnect later';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export interface UpdateLogOptions {
  maxQueuedBytes: number;
  maxBatchBytes: number;
  onRetry?: (err: unknown, attempt: number, rows: number) => void;
  /** Shutting down: what could not be written is given up (its appends reject). */
  onGiveUp?: (err: unknown, documents: string[], rows: number) => void;
}

/** What a queued append costs in the queue's bound on top of its update's bytes (so tiny updates count too). */
export const ENTRY_COST_BYTES = 128;

const DEFAULTS: UpdateLogOptions = {
  maxQueuedBytes: 256 * 1024 * 1024,
  maxBatchBytes: 16 * 1024 * 1024,
};

export class UpdateLog {
  private queue: PendingAppend[] = [];
  /** Bytes queued and in flight (what the bound counts). */
  private queuedBytes = 0;
  /** The running flush loops (at most MAX_IN_FLIGHT), and how many of them are waiting to take a batch. */
  private readonly loops = new Set<Promise<void>>();
  private waitingLoops = 0;
  /** Taken batches in sequence order, until they and every batch before them are done. */
  private readonly taken: TakenBatch[] = [];
  private closed = false;
  private nextSeq = 1;
  private committedSeq = 0;
  /** Per document, the sequence number of its last append (Infinity: a change could not be queued). */
  private readonly lastSeq = new Map<string, number>();
  private readonly commitListeners: Array<(committed: number) => void> = [];
  private readonly undurableListeners: Array<(name: string) => void> = [];
  /** Highest sequence number written or given up; and who waits for one (./persistence.ts, before compacting). */
  private settledSeq = 0;
  private settleWaiters: Array<{ seq: number; resolve: () => void }> = [];
  /** Rows of the batches being written (or waiting to be retried). */
  private inFlight = 0;
  /** End the current retry back-offs early (on close). */
  private readonly wakers = new Set<() => void>();
  private readonly options: UpdateLogOptions;
  /** Counters for stats and metrics. */
  readonly stats = { appended: 0, batches: 0, failed: 0, retries: 0 };

  constructor(
    private readonly store: DocumentStore,
    options: Partial<UpdateLogOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Appends not yet written: queued, and the batches in flight. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /** Everything appended with a sequence number up to this one is in Postgres. */
  get committed(): number {
    return this.committedSeq;
  }

  /** The sequence number that must be committed for the document's applied changes to be durable. */
  requiredFor(name: string): number {
    return this.lastSeq.get(name) ?? 0;
  }

  /** Called after each commit with the new `committed`. */
  onCommitted(listener: (committed: number) => void): void {
    this.commitListeners.push(listener);
  }

  /** Called when a document becomes undurable (see markUndurable). */
  onUndurable(listener: (name: string) => void): void {
    this.undurableListeners.push(listener);
  }

  /**
   * Queues an append and returns its sequence number, or throws StoreUnavailableError at once (closed, or the queue
   * is full) without queuing anything. `settle` is called once it is written, or with the error it was given up with.
   */
  enqueue(name: string, update: Uint8Array, settle?: (err?: Error) => void): number {
    if (this.closed) throw new StoreUnavailableError('server shutting down');
    const cost = update.byteLength + ENTRY_COST_BYTES;
    if (this.queuedBytes + cost > this.options.maxQueuedBytes) {
      this.stats.failed++;
      throw new StoreUnavailableError('append queue full');
    }
    const seq = this.nextSeq++;
    this.queue.push({ name, update, seq, settle });
    this.queuedBytes += cost;
    if (this.lastSeq.get(name) !== Number.POSITIVE_INFINITY) this.lastSeq.set(name, seq);
    // A loop about to take a batch takes this one too; otherwise another batch may go out beside those in flight.
    if (this.waitingLoops === 0 && this.loops.size < MAX_IN_FLIGHT) {
      const loop = this.flushLoop().finally(() => this.loops.delete(loop));
      this.loops.add(loop);
    }
    return seq;
  }

  /**
   * Appends a change that is already applied in memory; resolves once it is in Postgres. When it cannot even be
   * queued, the document is marked undurable (see markUndurable) and the promise rejects.
   */
  append(name: string, update: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      try {
        this.enqueue(name, update, (err) => (err ? reject(err) : resolve()));
      } catch (err) {
        this.markUndurable(name);
        reject(err);
      }
    });
  }

  /**
   * A change applied to the document could not be queued: this instance can no longer vouch for its state, so no
   * acknowledgement waits its way to durability on it until the document is unloaded and loaded again.
   */
  markUndurable(name: string): void {
    if (this.lastSeq.get(name) === Number.POSITIVE_INFINITY) return;
    this.lastSeq.set(name, Number.POSITIVE_INFINITY);
    for (const listener of this.undurableListeners) listener(name);
  }

  /**
   * Queues the whole state of an undurable document (`Y.encodeStateAsUpdate`): once it is committed, everything the
   * document held is stored and it is durable again. False when it cannot be queued yet (queue full, closed).
   */
  repair(name: string, state: Uint8Array): boolean {
    if (this.lastSeq.get(name) !== Number.POSITIVE_INFINITY) return true;
    let seq: number;
    try {
      seq = this.enqueue(name, state);
    } catch {
      return false;
    }
    this.lastSeq.set(name, seq);
    return true;
  }

  /** The document left memory: the next load starts from what Postgres holds. */
  forget(name: string): void {
    this.lastSeq.delete(name);
  }

  /** Resolves once every append up to `seq` has been written or given up (at once when it already has). */
  whenSettled(seq: number): Promise<void> {
    if (seq <= this.settledSeq) return Promise.resolve();
    return new Promise((resolve) => this.settleWaiters.push({ seq, resolve }));
  }

  /** Resolves when everything queued so far has been written or given up. */
  async drain(): Promise<void> {
    while (this.loops.size > 0) await Promise.all(this.loops);
  }

  /** Stops retrying and refuses new appends: what cannot be written now is given up. */
  close(): void {
    this.closed = true;
    for (const wake of this.wakers) wake();
  }

  /** The next batch; its bytes keep counting against the bound until it is written or given up. */
  private takeBatch(): TakenBatch {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && n < MAX_ROWS_PER_INSERT) {
      const size = (this.queue[n] as PendingAppend).update.byteLength;
      if (n > 0 && bytes + size > this.options.maxBatchBytes) break;
      bytes += size;
      n++;
    }
    return { batch: this.queue.splice(0, n), cost: bytes + n * ENTRY_COST_BYTES };
  }

  private async flushLoop(): Promise<void> {
    for (;;) {
      // Let the appends of this turn of the event loop join the batch, and its broadcasts leave first: Hocuspocus
      // sends an applied update from a setImmediate queued after this append, and the INSERT's write wakes
      // Postgres, which shares the core in a small deployment, in the middle of that fan-out otherwise.
      this.waitingLoops++;
      await afterThisTurn();
      this.waitingLoops--;
      if (this.queue.length === 0) return;
      const taken: TakenBatch = this.takeBatch();
      this.taken.push(taken);
      this.inFlight += taken.batch.length;
      try {
        await this.insertWithRetry(taken.batch);
        taken.outcome = 'written';
      } catch (err) {
        this.giveUp(taken.batch, err);
        taken.outcome = 'given-up';
      } finally {
        this.inFlight -= taken.batch.length;
        this.queuedBytes -= taken.cost;
      }
      this.advance();
    }
  }

  /** Moves `committed` (and what is settled) over the batches done in sequence order. */
  private advance(): void {
    while (this.taken.length > 0 && (this.taken[0] as TakenBatch).outcome) {
      const { batch, outcome } = this.taken.shift() as TakenBatch;
      const last = (batch[batch.length - 1] as PendingAppend).seq;
      if (outcome === 'written') {
        this.stats.appended += batch.length;
        this.stats.batches++;
        this.committedSeq = last;
        for (const p of batch) p.settle?.();
        for (const listener of this.commitListeners) listener(this.committedSeq);
      }
      this.settled(last);
    }
  }

  private settled(seq: number): void {
    this.settledSeq = seq;
    if (this.settleWaiters.length === 0) return;
    const waiting = this.settleWaiters;
    this.settleWaiters = [];
    for (const waiter of waiting) {
      if (waiter.seq <= this.settledSeq) waiter.resolve();
      else this.settleWaiters.push(waiter);
    }
  }

  private giveUp(batch: PendingAppend[], err: unknown): void {
    this.stats.failed += batch.length;
    this.options.onGiveUp?.(err, [...new Set(batch.map((p) => p.name))], batch.length);
    const error = err instanceof StoreUnavailableError ? err : new StoreUnavailableError('could not append update', { cause: err });
    for (const p of batch) {
      this.markUndurable(p.name);
      p.settle?.(error);
    }
  }

  private async insertWithRetry(batch: PendingAppend[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.append(batch);
        return;
      } catch (err) {
        if (this.closed) throw err;
        this.stats.retries++;
        this.options.onRetry?.(err, attempt, batch.length);
        const delay = Math.min(2000, 50 * 2 ** Math.min(attempt, 6));
        await new Promise<void>((r) => {
          const wake = () => {
            clearTimeout(timer);
            this.wakers.delete(wake);
            r();
          };
          const timer = setTimeout(wake, delay);
          this.wakers.add(wake);
        });
        if (this.closed) throw err;
      }
    }
  }
}

/** Resolves in the check phase after the next one: after every setImmediate queued so far in this turn. */
function afterThisTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
}
