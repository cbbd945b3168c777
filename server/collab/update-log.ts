/**
 * Durable appends with group commit. `append()` resolves once the update is in Postgres. While one INSERT is in
 * flight, later appends (from any connection or document) queue up and go out together in the next INSERT, so an
 * idle server adds no batching delay and a busy one does one round trip per batch instead of per update.
 *
 * A failed INSERT is retried with backoff until `retryWindowMs` has passed since the batch was first tried; then
 * its appends reject (their edits were never acknowledged, so the clients keep and resend them). The queue is
 * bounded in bytes: past `maxQueuedBytes` an append rejects at once instead of growing memory.
 */
import type { DocumentStore, UpdateRow } from '../store/documents.js';
import { MAX_ROWS_PER_INSERT } from '../store/documents.js';

interface PendingAppend extends UpdateRow {
  resolve: () => void;
  reject: (err: Error) => void;
}

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
  retryWindowMs: number;
  maxQueuedBytes: number;
  maxBatchBytes: number;
  onRetry?: (err: unknown, attempt: number, rows: number) => void;
  /** A batch was given up (retry window over, or shutting down): its appends reject. */
  onGiveUp?: (err: unknown, documents: string[], rows: number) => void;
}

const DEFAULTS: UpdateLogOptions = {
  retryWindowMs: 30_000,
  maxQueuedBytes: 256 * 1024 * 1024,
  maxBatchBytes: 16 * 1024 * 1024,
};

export class UpdateLog {
  private queue: PendingAppend[] = [];
  private queuedBytes = 0;
  private flushing: Promise<void> | null = null;
  private closed = false;
  /** Rows of the batch being written (or waiting to be retried). */
  private inFlight = 0;
  /** Ends the current retry back-off early (on close). */
  private wake: (() => void) | undefined;
  private readonly options: UpdateLogOptions;
  /** Counters for stats and metrics. */
  readonly stats = { appended: 0, batches: 0, failed: 0, retries: 0 };

  constructor(
    private readonly store: DocumentStore,
    options: Partial<UpdateLogOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Appends not yet written: queued, and the batch in flight. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  append(name: string, update: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('server shutting down'));
    if (this.queuedBytes + update.byteLength > this.options.maxQueuedBytes) {
      this.stats.failed++;
      return Promise.reject(new StoreUnavailableError('append queue full'));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ name, update, resolve, reject });
      this.queuedBytes += update.byteLength;
      this.flushing ??= this.flushLoop();
    });
  }

  /** Resolves when everything queued so far has been written or rejected. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Stops retrying and refuses new appends: what cannot be written now rejects. */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  private takeBatch(): PendingAppend[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && n < MAX_ROWS_PER_INSERT) {
      const size = (this.queue[n] as PendingAppend).update.byteLength;
      if (n > 0 && bytes + size > this.options.maxBatchBytes) break;
      bytes += size;
      n++;
    }
    this.queuedBytes -= bytes;
    return this.queue.splice(0, n);
  }

  private async flushLoop(): Promise<void> {
    // Let the appends of this turn of the event loop join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        this.inFlight = batch.length;
        try {
          await this.insertWithRetry(batch);
          this.stats.appended += batch.length;
          this.stats.batches++;
          for (const p of batch) p.resolve();
        } catch (err) {
          this.stats.failed += batch.length;
          this.options.onGiveUp?.(err, [...new Set(batch.map((p) => p.name))], batch.length);
          const error = err instanceof StoreUnavailableError ? err : new StoreUnavailableError('could not append update', { cause: err });
          for (const p of batch) p.reject(error);
        } finally {
          this.inFlight = 0;
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private async insertWithRetry(batch: PendingAppend[]): Promise<void> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.append(batch);
        return;
      } catch (err) {
        const elapsed = Date.now() - started;
        if (this.closed || elapsed >= this.options.retryWindowMs) throw err;
        this.stats.retries++;
        this.options.onRetry?.(err, attempt, batch.length);
        const delay = Math.min(2000, 50 * 2 ** Math.min(attempt, 6), this.options.retryWindowMs - elapsed);
        await new Promise<void>((r) => {
          const timer = setTimeout(r, delay);
          this.wake = () => {
            clearTimeout(timer);
            r();
          };
        });
        this.wake = undefined;
        if (this.closed) throw err;
      }
    }
  }
}
