/**
 * Jobs while the bus (Redis) is down, and after: requests still succeed at once, because Postgres can hold the state.
 *
 * - A change that cannot reach the bus is written to Postgres directly (durably, one row, over an older version
 *   only), and the job is remembered as unpublished.
 * - Once the bus answers again (a retry round every RETRY_MS, or the job's next change, whichever comes first) the
 *   job's state is published as a `reset`: Postgres's when it is ahead of the bus's (and always when it is terminal),
 *   else the bus's own. Followers learn that states were skipped instead of missing them silently.
 * Per instance: if this instance dies before the bus is back, followers catch up on their next connection.
 */
import { jobChannel } from '../../shared/channels.js';
import type { JobProgressBody } from '../../shared/messages.js';
import { DomainError } from '../errors.js';
import type { Job } from '../store/jobs.js';
import { RetryLoop } from '../streaming/publish-retry.js';
import { conflict, isTerminal, settleExpiredClaim } from './job-completion.js';
import { resetMessage } from './job-messages.js';
import { applyUpdate, atVersion, decodeRecord } from './job-record.js';
import { unavailable, type JobStates } from './job-states.js';

/** Jobs remembered as unpublished at most. */
const MAX_UNPUBLISHED = 10_000;

export class JobRecovery {
  private readonly unpublished = new Set<string>();
  private readonly retries = new RetryLoop(
    () => this.retry(),
    () => this.unpublished.size > 0,
  );

  constructor(private readonly states: JobStates) {
    states.unpublished = (id) => this.remember(id);
  }

  has(id: string): boolean {
    return this.unpublished.has(id);
  }

  stop(): void {
    this.retries.stop();
  }

  /** `update` written to Postgres directly (the bus is down), over `known` (this instance's latest) or the stored row. */
  async writeWithoutBus(id: string, update: JobProgressBody, known: Job | undefined): Promise<Job> {
    let job = known ?? (await this.stored(id));
    for (;;) {
      if (isTerminal(job)) throw conflict(job);
      const next = applyUpdate(job, update, job.version + 1);
      const written = await this.write(next);
      if (written) {
        this.states.remember({ job: written });
        this.remember(id);
        return written;
      }
      // Postgres had a newer or a terminal state: start again from it.
      job = await this.stored(id);
    }
  }

  /**
   * Publishes the job's state as a `reset` (see the header). Throws when the bus or Postgres is still down (the job
   * stays remembered).
   */
  async reconcile(id: string): Promise<void> {
    const stored = await this.states.fromStore(id);
    if (!stored) {
      this.unpublished.delete(id);
      return;
    }
    for (;;) {
      const { state } = await this.states.bus.state(jobChannel(id));
      const current = decodeRecord(state);
      if (current?.closing) {
        // A terminal state is being committed: it settles this job (or, expired, is settled from Postgres first).
        if (current.closing.until > Date.now()) return;
        await settleExpiredClaim(this.states, current);
        continue;
      }
      if (current && isTerminal(current.job)) break;
      const busAhead = current && current.job.version >= stored.version && !isTerminal(stored);
      const base = busAhead ? current.job : stored;
      const job = atVersion(base, Math.max(base.version, (state?.version ?? 0) + 1));
      const result = await this.states.commit(id, state?.version ?? null, { job }, JSON.stringify(resetMessage(job)));
      if (result.ok) {
        if (!isTerminal(job)) this.states.writer.schedule(job);
        break;
      }
    }
    this.unpublished.delete(id);
  }

  private remember(id: string): void {
    this.unpublished.delete(id);
    this.unpublished.add(id);
    if (this.unpublished.size > MAX_UNPUBLISHED) {
      const oldest = this.unpublished.values().next().value!;
      this.unpublished.delete(oldest);
      this.states.log.error({ jobId: oldest }, 'too many unpublished jobs: followers of this one catch up on their next connection');
    }
    this.retries.schedule();
  }

  private async retry(): Promise<void> {
    for (const id of [...this.unpublished]) {
      if (this.retries.stopped) return;
      try {
        await this.reconcile(id);
      } catch {
        return; // the bus (or Postgres) is still down: the next round retries
      }
    }
  }

  private async stored(id: string): Promise<Job> {
    const job = await this.states.fromStore(id);
    if (!job) throw new DomainError('NOT_FOUND', `job ${id} not found`);
    return job;
  }

  /** One state to Postgres: the terminal commit, or a progress state over an older version. Null: Postgres was ahead. */
  private async write(next: Job): Promise<Job | null> {
    try {
      if (isTerminal(next)) return await this.states.store.commitTerminal(next);
      return (await this.states.store.writeStates([next])).has(next.id) ? next : null;
    } catch (err) {
      throw unavailable(`job ${next.id}: neither the bus nor the store is available`, err);
    }
  }
}
