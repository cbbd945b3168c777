/**
 * Jobs: creation, reads, and progress (docs/jobs.md).
 *
 * Write path. A job's latest state lives on the bus (the channel state of `jobs.{id}`, next to its replay history):
 * - a progress step is one compare-and-set of that state with its event published in the same step, then the answer;
 *   Postgres gets the job's latest state coalesced (./job-state-writer.ts, at most every JOB_WRITE_INTERVAL_MS), so a
 *   step needs no database: with Postgres down, progress is still accepted and delivered;
 * - a terminal state (completed, failed, cancelled) is committed to Postgres before the answer (./job-completion.ts):
 *   503 SERVICE_UNAVAILABLE when Postgres is down; 409 for any change after it, on every instance;
 * - with the bus down, changes are written to Postgres directly and published once it is back (./job-recovery.ts).
 * Reads (GET, a stream's first state) take the freshest of the bus's state and Postgres's row.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { isTerminalStatus, type CreateJobBody, type JobProgressBody } from '../../shared/messages.js';
import { canReadJob } from '../access/policy.js';
import type { Principal } from '../auth/jwt.js';
import type { Bus } from '../bus/types.js';
import { DomainError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Job, JobStore } from '../store/jobs.js';
import { conflict, finish, isTerminal, settleExpiredClaim } from './job-completion.js';
import { progressMessage } from './job-messages.js';
import { applyUpdate, type JobRecord } from './job-record.js';
import { JobRecovery } from './job-recovery.js';
import { JobStateWriter } from './job-state-writer.js';
import { JobStates, unavailable, type Base } from './job-states.js';
import { encodeStep } from './job-texts.js';

/** How long a change waits for another request's terminal state to settle before answering 503. */
const CLAIM_WAIT_MS = 2000;
const CLAIM_POLL_MS = 10;
/** Compare-and-set rounds one change may take (each lost round means another change of the job went first). */
const MAX_ATTEMPTS = 50;

/** A progress update's outcome: the job, and its REST answer when the step encoded it already (./job-texts.ts). */
export interface ProgressReport {
  job: Job;
  /** The JobResponse JSON of `job`, or null: the route serializes `job` itself. */
  reply: string | null;
}

export interface JobsServiceOptions {
  /** How often a job's latest progress is written to Postgres at most (JOB_WRITE_INTERVAL_MS, default 250). */
  writeIntervalMs: number;
}

export class JobsService {
  private readonly states: JobStates;
  private readonly recovery: JobRecovery;
  /** Told once per job, on the instance that stored its terminal state (automatic notifications). */
  private readonly endedListeners = new Set<(job: Job) => Promise<void> | void>();

  constructor(store: JobStore, bus: Bus, metrics: Metrics, log: FastifyBaseLogger, options: JobsServiceOptions) {
    this.states = new JobStates(store, bus, new JobStateWriter(store, options.writeIntervalMs, log), metrics, log);
    this.recovery = new JobRecovery(this.states);
  }

  /** The coalesced writer's counters (pending, written, statements, failures). */
  get writes() {
    return this.states.writer.stats;
  }

  async create(body: CreateJobBody): Promise<Job> {
    const id = body.job_id ?? randomUUID();
    const job = await this.states.store.create({ id, userId: body.user_id, kind: body.kind, title: body.title ?? null });
    if (!job) throw new DomainError('CONFLICT', `job ${id} already exists`);
    // The bus gets the state now, so that progress needs no database from the first step on.
    await this.states.commit(id, null, { job }).catch(() => undefined);
    return job;
  }

  /** The job's freshest state, if `principal` may read it: 404 when missing, 403 for anyone but its owner and job services. */
  async readable(principal: Principal, id: string): Promise<Job> {
    const job = await this.states.freshest(id);
    if (!job) throw new DomainError('NOT_FOUND', `job ${id} not found`);
    if (!canReadJob(principal, job.userId)) {
      throw new DomainError('PERMISSION_DENIED', 'only the job’s owner and job services may read this job');
    }
    return job;
  }

  /** The bus's head and the job's state at it (the caller checked access with `readable`). */
  async snapshot(id: string): Promise<{ head: string; job: Job | null }> {
    return this.states.snapshot(id);
  }

  /**
   * Applies a progress update: 409 once the job is terminal, 404 for no job, 503 when what it needs is down. A
   * terminal state is answered once the job-ended listeners are done (`onEnded`).
   */
  async progress(id: string, update: JobProgressBody): Promise<Job> {
    return (await this.report(id, update)).job;
  }

  /** `progress`, with the answer's JSON when the step encoded it already (POST /jobs/{id}/progress). */
  async report(id: string, update: JobProgressBody): Promise<ProgressReport> {
    const done = await this.apply(id, update);
    if (isTerminalStatus(done.job.status)) await this.ended(done.job);
    return done;
  }

  /**
   * Calls `listener` with each job that reaches a terminal state here, after it is stored and published; the
   * terminal report is answered once the listeners are done (their failures are logged, never the report's).
   */
  onEnded(listener: (job: Job) => Promise<void> | void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  private async ended(job: Job): Promise<void> {
    await Promise.all(
      [...this.endedListeners].map(async (listener) => {
        try {
          await listener(job);
        } catch (err) {
          this.states.log.error({ err, jobId: job.id }, 'a job-ended listener failed');
        }
      }),
    );
  }

  private async apply(id: string, update: JobProgressBody): Promise<ProgressReport> {
    const deadline = Date.now() + CLAIM_WAIT_MS;
    let fresh = false;
    for (let attempt = 0; ; attempt++) {
      if (attempt === MAX_ATTEMPTS) throw unavailable(`job ${id} changed ${MAX_ATTEMPTS} times while this update was applied: retry`);
      // Published again before this change, so followers get the reset first (when the bus is back).
      if (this.recovery.has(id)) await this.recovery.reconcile(id).catch(() => undefined);
      // The cached guess without an await (a worker posting to its job: the common case), else the bus's or Postgres's.
      let base: Base | undefined = fresh ? undefined : this.states.cached(id);
      if (!base) {
        try {
          base = await this.states.base(id);
        } catch (err) {
          if (err instanceof DomainError) throw err;
          return { job: await this.recovery.writeWithoutBus(id, update, undefined), reply: null };
        }
      }
      const { record, expect } = base;
      if (isTerminal(record.job)) throw conflict(record.job);
      if (record.closing) {
        await this.waitForClaim(record, deadline);
        fresh = true;
        continue;
      }
      let done: ProgressReport | null;
      try {
        if (isTerminalStatus(update.status)) {
          const job = await finish(this.states, record, expect, update);
          done = job && { job, reply: null };
        } else done = await this.step(record, expect, update);
      } catch (err) {
        if (err instanceof DomainError) throw err;
        // The bus went down: Postgres takes the change, the bus gets it once it is back.
        return { job: await this.recovery.writeWithoutBus(id, update, record.job), reply: null };
      }
      if (done) return done;
      fresh = false; // the commit found another state and remembered it: retry from it
    }
  }

  async countActive(): Promise<number> {
    return this.states.store.countActive();
  }

  /** Stops the retries of unpublished states (shutdown, phase 1). */
  stop(): void {
    this.recovery.stop();
  }

  /** Writes the pending coalesced states to Postgres (shutdown, phase 2). */
  async flush(): Promise<void> {
    await this.states.writer.close();
  }

  /**
   * Writes this instance's pending progress to Postgres now (before a read of the table, e.g. GET /jobs). Other
   * instances' pending progress reaches it within JOB_WRITE_INTERVAL_MS.
   */
  async writePending(): Promise<void> {
    try {
      await this.states.writer.flush();
    } catch (err) {
      throw unavailable('the store is unavailable', err);
    }
  }

  /**
   * One progress step: the bus state and the event, in one compare-and-set. Null when another state was in place.
   * The state, the event and the answer are encoded together (./job-texts.ts), else each by its generic encoder.
   */
  private async step(record: JobRecord, expect: number | null, update: JobProgressBody): Promise<ProgressReport | null> {
    const next = applyUpdate(record.job, update, record.job.version + 1);
    const texts = encodeStep(next);
    const result = texts
      ? await this.states.commit(next.id, expect, { job: next }, texts.event, texts.state)
      : await this.states.commit(next.id, expect, { job: next }, JSON.stringify(progressMessage(next)));
    if (!result.ok) return null;
    this.states.writer.schedule(next);
    return { job: next, reply: texts ? texts.reply : null };
  }

  /** Waits while another request commits a terminal state; settles the claim from Postgres once it has expired. */
  private async waitForClaim(record: JobRecord, deadline: number): Promise<void> {
    if (record.closing!.until <= Date.now()) return settleExpiredClaim(this.states, record);
    if (Date.now() >= deadline) {
      throw unavailable(`job ${record.job.id} is being completed by another request, and that has not settled yet: retry`);
    }
    await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
  }
}
