/**
 * Progress steps reach Postgres coalesced: the bus holds every step (its state and its history, ../bus/types.ts), and
 * this writer copies the latest state of each job to the `jobs` table at most once per interval (JOB_WRITE_INTERVAL_MS,
 * default 250 ms), all jobs due in one statement. A write only ever replaces an older version of a job that is not
 * terminal (JobStore.writeStates), so writes from several instances, late or repeated, never move a job back.
 *
 * - Postgres down: the states stay pending (a newer state of the same job replaces its pending one) and the next
 *   round retries; progress keeps being accepted and delivered meanwhile (the bus has it).
 * - Graceful shutdown writes what is pending (server/lifecycle.ts); a crash loses at most the last interval's steps
 *   in Postgres, and the bus still has them (a job's GET prefers the bus's newer state).
 * - At most MAX_PENDING jobs wait: past that the oldest pending state is dropped (logged; the bus still has it).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Job, JobStore } from '../store/jobs.js';

const MAX_PENDING = 100_000;
/** Rows per statement. */
const MAX_BATCH = 500;
const WARN_EVERY_MS = 10_000;

export interface JobStateWriterStats {
  pending: number;
  /** Rows written (a job written in several rounds counts each time). */
  written: number;
  statements: number;
  failures: number;
}

export class JobStateWriter {
  private pending = new Map<string, Job>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private lastWarning = 0;
  private closed = false;
  private readonly counts = { written: 0, statements: 0, failures: 0 };

  constructor(
    private readonly store: JobStore,
    private readonly intervalMs: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  get stats(): JobStateWriterStats {
    return { pending: this.pending.size, ...this.counts };
  }

  /** Writes `job` within the interval, unless a newer state of it comes first (then that one is written). */
  schedule(job: Job): void {
    const queued = this.pending.get(job.id);
    if (queued && queued.version >= job.version) return;
    this.pending.delete(job.id);
    this.pending.set(job.id, job);
    if (this.pending.size > MAX_PENDING) {
      const [oldest] = this.pending.keys();
      this.pending.delete(oldest!);
      this.warn({ jobId: oldest }, 'too many job states waiting for Postgres: the oldest is dropped (the bus still has it)');
    }
    this.arm();
  }

  /** Forgets a pending state at or below `version` (a terminal state was committed over it). */
  forget(id: string, version: number): void {
    const queued = this.pending.get(id);
    if (queued && queued.version <= version) this.pending.delete(id);
  }

  /** Writes everything pending now (and waits for a round in progress). Rejects when Postgres does not take it. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const round = this.round();
    this.flushing = round.finally(() => (this.flushing = undefined));
    await this.flushing;
    if (this.pending.size > 0) throw new Error(`${this.pending.size} job states could not be written to Postgres`);
  }

  /** Shutdown: stops the timer and writes what is pending (the lifecycle bounds the wait). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private arm(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.flushing) return this.arm();
      this.flushing = this.round().finally(() => {
        this.flushing = undefined;
        if (this.pending.size > 0) this.arm();
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Writes the pending states; on failure they go back (unless a newer state arrived meanwhile). */
  private async round(): Promise<void> {
    const batch = [...this.pending.values()];
    this.pending = new Map();
    for (let i = 0; i < batch.length; i += MAX_BATCH) {
      const chunk = batch.slice(i, i + MAX_BATCH);
      try {
        await this.store.writeStates(chunk);
        this.counts.statements++;
        this.counts.written += chunk.length;
      } catch (err) {
        this.counts.failures++;
        this.warn({ err, jobs: batch.length - i }, 'job states not written to Postgres yet: retrying (progress is still accepted and delivered)');
        for (const job of batch.slice(i)) {
          const newer = this.pending.get(job.id);
          if (!newer || newer.version < job.version) this.pending.set(job.id, job);
        }
        return;
      }
    }
  }

  private warn(fields: object, message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = now;
    this.log.warn(fields, message);
  }
}
