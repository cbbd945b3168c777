/**
 * Terminal states (completed, failed, cancelled) are committed to Postgres before the request is answered, and are
 * final on every instance. The bus state is where every change of a job is ordered (compare-and-set on its version),
 * so finishing a job is three steps there, with the Postgres commit in the middle:
 *
 * 1. claim: the bus state gets `closing` (who, until when). A progress step that meets a live claim waits for it
 *    to settle (./jobs-service.ts), so nothing is accepted between the terminal commit and its publication;
 * 2. commit the terminal state to Postgres (JobStore.commitTerminal: only over a state that is not terminal);
 * 3. publish: the terminal state replaces the claim on the bus, its event goes to every follower. Later progress on
 *    any instance finds a terminal state and gets 409.
 * Postgres down at step 2: the claim is released (the job goes on as before) and the request gets 503
 * SERVICE_UNAVAILABLE. An instance that dies between 1 and 3 leaves a claim that expires (`until`, CLAIM_MS): the next
 * change of the job on any instance settles it from Postgres: terminal there → that state is published (and the
 * change gets 409); not terminal → the claim is dropped.
 */
import { randomBytes } from 'node:crypto';
import { isTerminalStatus, type JobProgressBody } from '../../shared/messages.js';
import type { CommitResult } from '../bus/types.js';
import { DomainError } from '../errors.js';
import type { Job } from '../store/jobs.js';
import { progressMessage, resetMessage } from './job-messages.js';
import { applyUpdate, atVersion, decodeRecord, type JobRecord } from './job-record.js';
import { unavailable, type JobStates } from './job-states.js';

/** How long a claim holds before another instance may settle it from Postgres (above the store's statement timeout). */
export const CLAIM_MS = 35_000;

export function isTerminal(job: Job): boolean {
  return isTerminalStatus(job.status);
}

export function conflict(job: Job): DomainError {
  return new DomainError('CONFLICT', `job ${job.id} is ${job.status}: terminal states are final`, { status: job.status });
}

/**
 * Commits `update` (a terminal status) over `record` (at bus version `expect`), or resolves with null when the bus
 * moved on first (the caller retries from the current state). Throws 409 when Postgres has the job terminal already,
 * 503 when Postgres is down.
 */
export async function finish(states: JobStates, record: JobRecord, expect: number | null, update: JobProgressBody): Promise<Job | null> {
  const { job } = record;
  const claimVersion = job.version + 1;
  const claim: JobRecord = { job: atVersion(job, claimVersion), closing: { by: randomBytes(8).toString('hex'), until: Date.now() + CLAIM_MS } };
  if (!(await states.commit(job.id, expect, claim)).ok) return null;
  const next = applyUpdate(job, update, claimVersion + 1);
  let committed: Job | null;
  try {
    committed = await states.store.commitTerminal(next);
  } catch (err) {
    await release(states, claim);
    throw unavailable(`job ${job.id} not ${update.status}: the store is unavailable, retry`, err);
  }
  if (!committed) {
    // Terminal in Postgres already (its bus state was lost and rebuilt from an older row), or gone.
    const stored = await states.fromStore(job.id);
    if (!stored) {
      await release(states, claim);
      throw new DomainError('NOT_FOUND', `job ${job.id} not found`);
    }
    await publishOver(states, claim, stored, 'reset');
    throw conflict(stored);
  }
  states.writer.forget(job.id, committed.version);
  await publishOver(states, claim, committed, 'job_progress');
  return committed;
}

/**
 * A claim whose holder did not settle it in time (its instance died, or Postgres held it): settled from Postgres.
 * Resolves when the bus no longer has that claim (whoever settled it).
 */
export async function settleExpiredClaim(states: JobStates, claim: JobRecord): Promise<void> {
  const stored = await states.fromStore(claim.job.id);
  if (stored && isTerminal(stored)) await publishOver(states, claim, stored, 'job_progress');
  else await release(states, claim);
}

/** Drops a claim: the job goes on from the state it had (no event: nothing changed for followers). */
async function release(states: JobStates, claim: JobRecord): Promise<void> {
  const { job } = claim;
  try {
    await states.commit(job.id, job.version, { job: atVersion(job, job.version + 1) });
  } catch (err) {
    // The bus is down: the claim expires instead (CLAIM_MS) and is settled from Postgres then.
    states.log.warn({ err, jobId: job.id }, 'job claim not released: it expires');
  }
}

/**
 * Publishes a terminal state committed in Postgres over the claim. If the bus moved on meanwhile (the claim was
 * settled by another instance after it expired, and progress followed), the terminal state goes over whatever is
 * there: it is final. When the bus is down it is published once the bus is back (./job-recovery.ts).
 */
async function publishOver(states: JobStates, claim: JobRecord, terminal: Job, kind: 'job_progress' | 'reset'): Promise<void> {
  let expect: number | null = claim.job.version;
  for (;;) {
    const version = Math.max(terminal.version, (expect ?? 0) + 1);
    const job = atVersion(terminal, version);
    let result: CommitResult;
    try {
      const message = kind === 'reset' ? resetMessage(job) : progressMessage(job);
      result = await states.commit(job.id, expect, { job }, JSON.stringify(message));
    } catch (err) {
      states.log.warn({ err, jobId: job.id }, 'terminal job state committed but not published yet: the bus is down');
      states.unpublished(job.id);
      return;
    }
    if (result.ok) return;
    const current = decodeRecord(result.current);
    if (current && isTerminal(current.job)) return;
    expect = result.current?.version ?? null;
  }
}
