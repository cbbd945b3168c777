/**
 * A job's state as the bus keeps it (the channel state of `jobs.{id}`, see ../bus/types.ts): the whole job, and while
 * a terminal state is being committed to Postgres, who is committing it and until when that claim holds.
 * The record's version is the job's version: every change (a progress step, a claim, its release, the terminal
 * state) takes the next one, so a compare-and-set on the version orders every change of a job across instances.
 */
import { isTerminalStatus, type JobProgressBody } from '../../shared/messages.js';
import type { ChannelState } from '../bus/types.js';
import type { Job } from '../store/jobs.js';
import { isoNow } from './iso-now.js';

export interface Closing {
  /** The request committing the terminal state (a random token). */
  by: string;
  /** ms since the epoch: past this, another instance may settle the claim from Postgres. */
  until: number;
}

export interface JobRecord {
  job: Job;
  closing?: Closing;
}

export function encodeRecord(record: JobRecord): ChannelState {
  return { version: record.job.version, value: JSON.stringify(record) };
}

/** The record of a bus state; null when the value is not one (it then counts as no state). */
export function decodeRecord(state: ChannelState | null): JobRecord | null {
  if (!state) return null;
  try {
    const record = JSON.parse(state.value) as JobRecord;
    if (typeof record?.job?.id !== 'string') return null;
    record.job.version = state.version;
    return record;
  } catch {
    return null;
  }
}

/**
 * A copy of `job` at `version`, every field listed: a spread with more properties after it (`{ ...job, version }`)
 * takes V8's slow path, ~15× the cost of this literal, and a progress step copies its job once.
 */
function copyAt(job: Job, version: number): Job {
  return {
    id: job.id,
    userId: job.userId,
    kind: job.kind,
    title: job.title,
    status: job.status,
    progress: job.progress,
    currentStep: job.currentStep,
    message: job.message,
    estimatedCompletion: job.estimatedCompletion,
    result: job.result,
    error: job.error,
    version,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    completedAt: job.completedAt,
  };
}

/** `job` with `update` applied, at `version`: `undefined` keeps a field, `null` clears it; `completed` sets progress 1. */
export function applyUpdate(job: Job, update: JobProgressBody, version: number, now?: Date): Job {
  const at = now === undefined ? isoNow() : now.toISOString();
  const next = copyAt(job, version);
  next.status = update.status;
  next.updatedAt = at;
  if (update.progress !== undefined) next.progress = update.progress;
  else if (update.status === 'completed') next.progress = 1;
  if (update.current_step !== undefined) next.currentStep = update.current_step;
  if (update.message !== undefined) next.message = update.message;
  if (update.estimated_completion !== undefined) {
    next.estimatedCompletion = update.estimated_completion === null ? null : new Date(update.estimated_completion).toISOString();
  }
  if (update.result !== undefined) next.result = update.result ?? null;
  if (update.error !== undefined) next.error = update.error ?? null;
  if (isTerminalStatus(update.status)) next.completedAt = at;
  return next;
}

/** The same job at another version (a claim, its release, a reset). */
export function atVersion(job: Job, version: number): Job {
  return copyAt(job, version);
}
