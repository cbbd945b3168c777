/**
 * Job progress: the state lives in Postgres (JobStore); every accepted update is then published on `jobs.{id}` with
 * the job's version as the bus `seq`, so subscribers on every instance see the job's states in version order. When the
 * bus is down the update still succeeds; the job's current state is published as a `reset` once the bus is back.
 * Who may read and follow a job: its owner (user_id) and service tokens (`jobs:write` or `admin`).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { jobChannel } from '../../shared/channels.js';
import { isTerminalStatus, type CreateJobBody, type JobProgressBody } from '../../shared/messages.js';
import { canReadJob } from '../access/policy.js';
import type { Principal } from '../auth/jwt.js';
import type { Bus } from '../bus/types.js';
import { DomainError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Job, JobStore } from '../store/jobs.js';
import { RetryLoop } from '../streaming/publish-retry.js';
import { progressMessage, resetMessage } from './job-messages.js';

/** Jobs whose latest state could not be published, kept for a retry at most. */
const MAX_UNPUBLISHED = 10_000;

export class JobsService {
  /** Jobs with a state Postgres holds but the bus never carried (Redis was down): published again as a `reset`. */
  private readonly unpublished = new Set<string>();
  private readonly retries = new RetryLoop(
    () => this.retry(),
    () => this.unpublished.size > 0,
  );

  /** Told once per job, on the instance that stored its terminal state (automatic notifications). */
  private readonly endedListeners = new Set<(job: Job) => Promise<void> | void>();

  constructor(
    private readonly store: JobStore,
    private readonly bus: Bus,
    private readonly metrics: Metrics,
    private readonly log: FastifyBaseLogger,
  ) {}

  async create(body: CreateJobBody): Promise<Job> {
    const id = body.job_id ?? randomUUID();
    const job = await this.store.create({ id, userId: body.user_id, kind: body.kind, title: body.title ?? null });
    if (!job) throw new DomainError('CONFLICT', `job ${id} already exists`);
    return job;
  }

  /** The job, if `principal` may read it: 404 when missing, 403 for anyone but its owner and job services. */
  async readable(principal: Principal, id: string): Promise<Job> {
    const job = await this.store.get(id);
    if (!job) throw new DomainError('NOT_FOUND', `job ${id} not found`);
    if (!canReadJob(principal, job.userId)) {
      throw new DomainError('PERMISSION_DENIED', 'only the job’s owner and job services may read this job');
    }
    return job;
  }

  /** The current state, without an access check (the caller checked with `readable`). */
  async current(id: string): Promise<Job | null> {
    return this.store.get(id);
  }

  /** Stores an update (409 once terminal), then publishes it. */
  async progress(id: string, body: JobProgressBody): Promise<Job> {
    const result = await this.store.update(id, {
      status: body.status,
      progress: body.progress,
      currentStep: body.current_step,
      message: body.message,
      estimatedCompletion: body.estimated_completion,
      result: body.result,
      error: body.error,
    });
    if (!result.ok) {
      if (result.reason === 'not_found') throw new DomainError('NOT_FOUND', `job ${id} not found`);
      throw new DomainError('CONFLICT', `job ${id} is ${result.job.status}: terminal states are final`, { status: result.job.status });
    }
    await this.publish(result.job);
    if (isTerminalStatus(result.job.status)) await this.ended(result.job);
    return result.job;
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
          this.log.error({ err, jobId: job.id }, 'a job-ended listener failed');
        }
      }),
    );
  }

  async countActive(): Promise<number> {
    return this.store.countActive();
  }

  /** Stops the retries of unpublished states (shutdown). */
  stop(): void {
    this.retries.stop();
  }

  /**
   * Publishes the stored state. Postgres holds it already: when the bus is down the job is remembered, and its current
   * state is published as a `reset` once the bus is back (also when the next update comes first), so followers learn
   * that states were skipped instead of silently missing them.
   */
  private async publish(job: Job): Promise<void> {
    const message = this.unpublished.has(job.id) ? resetMessage(job) : progressMessage(job);
    try {
      const event = await this.bus.publish(jobChannel(job.id), JSON.stringify(message), { seq: job.version });
      this.unpublished.delete(job.id);
      this.metrics.busPublish(event ? 'ok' : 'stale');
    } catch (err) {
      this.metrics.busPublish('failed');
      this.log.warn({ err, jobId: job.id }, 'job progress stored but not published yet: retrying while the bus is down');
      this.remember(job.id);
    }
  }

  private remember(id: string): void {
    this.unpublished.delete(id);
    this.unpublished.add(id);
    if (this.unpublished.size > MAX_UNPUBLISHED) {
      const oldest = this.unpublished.values().next().value!;
      this.unpublished.delete(oldest);
      this.log.error({ jobId: oldest }, 'too many unpublished jobs: followers of this one catch up on their next connection');
    }
    this.retries.schedule();
  }

  private async retry(): Promise<void> {
    try {
      for (const id of [...this.unpublished]) {
        if (this.retries.stopped) return;
        const job = await this.store.get(id);
        if (!job) {
          this.unpublished.delete(id);
          continue;
        }
        // seq: a newer state published meanwhile (by this instance or another) makes this one stale: nothing to do.
        const event = await this.bus.publish(jobChannel(id), JSON.stringify(resetMessage(job)), { seq: job.version });
        this.unpublished.delete(id);
        this.metrics.busPublish(event ? 'ok' : 'stale');
      }
    } catch {
      // The bus (or Postgres) is still down: the next round retries.
    }
  }
}
