/**
 * Where a job's current state is read and written, shared by the parts of the jobs service: the bus state (the
 * source of the latest state, ./job-record.ts), a small per-instance cache of the states this instance last saw
 * (a guess: every write is a compare-and-set on the bus, so a stale guess costs one retry, never a wrong answer),
 * Postgres (what was committed), and the coalesced writer.
 */
import type { FastifyBaseLogger } from 'fastify';
import { jobChannel } from '../../shared/channels.js';
import type { Bus, CommitResult } from '../bus/types.js';
import { DomainError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Job, JobStore } from '../store/jobs.js';
import { atVersion, decodeRecord, encodeRecord, type JobRecord } from './job-record.js';
import type { JobStateWriter } from './job-state-writer.js';

/** Job states remembered per instance. */
const CACHE_SIZE = 10_000;

/** A state to change, and the bus version the change must be based on (null: the bus has none yet). */
export interface Base {
  record: JobRecord;
  expect: number | null;
}

export class JobStates {
  private readonly cache = new Map<string, JobRecord>();
  /** Called with a job whose latest state Postgres has but the bus could not take (set by ./job-recovery.ts). */
  unpublished: (id: string) => void = () => {};

  constructor(
    readonly store: JobStore,
    readonly bus: Bus,
    readonly writer: JobStateWriter,
    readonly metrics: Metrics,
    readonly log: FastifyBaseLogger,
  ) {}

  /** The state a change starts from when this instance saw the job last: a guess (no promise, the common case). */
  cached(id: string): Base | undefined {
    const record = this.cache.get(id);
    return record && { record, expect: record.job.version };
  }

  /** The state a change starts from, read (no guess): the bus's, else Postgres's (the bus then has none). */
  async base(id: string): Promise<Base> {
    const { state } = await this.bus.state(jobChannel(id));
    const record = decodeRecord(state);
    if (record) {
      this.remember(record);
      return { record, expect: record.job.version };
    }
    const job = await this.fromStore(id);
    if (!job) throw new DomainError('NOT_FOUND', `job ${id} not found`);
    // No state on the bus (or one that is not a job's: replaced, at a higher version).
    return { record: { job: state ? atVersion(job, Math.max(job.version, state.version)) : job }, expect: state?.version ?? null };
  }

  /**
   * Replaces the bus state if it is still `expect`, with `payload` published; remembers whichever state is in place.
   * `value`: the record's encoding when the caller made it already (./job-texts.ts), else encodeRecord's.
   */
  async commit(id: string, expect: number | null, record: JobRecord, payload?: string, value?: string): Promise<CommitResult> {
    const state = value === undefined ? encodeRecord(record) : { version: record.job.version, value };
    // A literal per case: a spread of `{ payload }` into the change allocated twice and took V8's slow path.
    const result = await this.bus.commit(jobChannel(id), payload === undefined ? { expect, state } : { expect, state, payload });
    if (result.ok) this.remember(record);
    else {
      const current = decodeRecord(result.current);
      if (current) this.remember(current);
      else this.cache.delete(id);
    }
    this.metrics.busPublish(result.ok ? 'ok' : 'stale');
    return result;
  }

  /**
   * The freshest state: the bus's or Postgres's, whichever has the higher version (Postgres can be ahead only after
   * writes made while the bus was down, until they are published again). Either may be down; not both.
   */
  async freshest(id: string): Promise<Job | null> {
    const [fromBus, fromStore] = await Promise.allSettled([this.bus.state(jobChannel(id)), this.store.get(id)]);
    const onBus = fromBus.status === 'fulfilled' ? decodeRecord(fromBus.value.state)?.job : undefined;
    if (fromStore.status === 'rejected') {
      if (onBus) return onBus;
      throw unavailable(`job ${id}: the store is unavailable`, fromStore.reason);
    }
    const stored = fromStore.value;
    if (onBus && (!stored || onBus.version >= stored.version)) return onBus;
    return stored;
  }

  /** The bus's head and state of the job together (a stream's starting point); Postgres when the bus has no state. */
  async snapshot(id: string): Promise<{ head: string; job: Job | null }> {
    const { head, state } = await this.bus.state(jobChannel(id));
    const record = decodeRecord(state);
    return { head, job: record ? record.job : await this.fromStore(id) };
  }

  async fromStore(id: string): Promise<Job | null> {
    try {
      return await this.store.get(id);
    } catch (err) {
      throw unavailable(`job ${id}: the store is unavailable`, err);
    }
  }

  remember(record: JobRecord): void {
    const id = record.job.id;
    this.cache.delete(id);
    this.cache.set(id, record);
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
  }
}

/** Postgres (or what a request needs) is down: 503 SERVICE_UNAVAILABLE; the cause is kept for the log. */
export function unavailable(message: string, cause?: unknown): DomainError {
  const error = new DomainError('SERVICE_UNAVAILABLE', message);
  if (cause !== undefined) (error as Error & { cause?: unknown }).cause = cause;
  return error;
}
