/**
 * Jobs and their progress. Terminal states (completed, failed, cancelled) are final. Progress steps reach this table
 * coalesced (the latest state of a job at most every JOB_WRITE_INTERVAL_MS, ../jobs/job-state-writer.ts); terminal
 * states are committed one by one before the request is answered (../jobs/jobs-service.ts).
 */
import { JOB_STATUSES, TERMINAL_JOB_STATUSES, type JobStatus } from '../../shared/messages.js';
import type { Db } from './db.js';

export interface Job {
  id: string;
  userId: string;
  kind: string;
  title: string | null;
  status: JobStatus;
  progress: number;
  currentStep: string | null;
  message: string | null;
  estimatedCompletion: string | null;
  result: unknown;
  error: unknown;
  /** Grows with every change (1 at creation); the bus state's version of the job (../jobs/job-record.ts). */
  version: number;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

export interface JobRow {
  id: string;
  user_id: string;
  kind: string;
  title: string | null;
  status: string;
  progress: number | string;
  current_step: string | null;
  message: string | null;
  estimated_completion: Date | string | null;
  result: unknown;
  error: unknown;
  version: number | string;
  created_at: Date | string;
  updated_at: Date | string;
  completed_at: Date | string | null;
}

const iso = (v: Date | string) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());
const isoOrNull = (v: Date | string | null) => (v === null ? null : iso(v));
const TERMINAL_SQL = TERMINAL_JOB_STATUSES.map((s) => `'${s}'`).join(', ');

export function toJob(row: JobRow): Job {
  const status = (JOB_STATUSES as readonly string[]).includes(row.status) ? (row.status as JobStatus) : 'failed';
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind,
    title: row.title,
    status,
    progress: Number(row.progress),
    currentStep: row.current_step,
    message: row.message,
    estimatedCompletion: isoOrNull(row.estimated_completion),
    result: row.result ?? null,
    error: row.error ?? null,
    version: Number(row.version),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    completedAt: isoOrNull(row.completed_at),
  };
}

/** JSON values go to jsonb as text: pg would turn a JS array into a Postgres array literal. */
const jsonParam = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));

export class JobStore {
  constructor(private readonly db: Db) {}

  /** Creates a queued job; null when `id` is taken. */
  async create(input: { id: string; userId: string; kind: string; title: string | null }): Promise<Job | null> {
    const { rows } = await this.db.query<JobRow>(
      `INSERT INTO jobs (id, user_id, kind, title) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO NOTHING RETURNING *`,
      [input.id, input.userId, input.kind, input.title],
    );
    return rows[0] ? toJob(rows[0]) : null;
  }

  async get(id: string): Promise<Job | null> {
    const { rows } = await this.db.query<JobRow>('SELECT * FROM jobs WHERE id = $1', [id]);
    return rows[0] ? toJob(rows[0]) : null;
  }

  /**
   * Writes the latest states of jobs that are not terminal (progress, coalesced: ../jobs/job-state-writer.ts), each
   * only over an older version: a late or repeated write never moves a job back, and never touches a terminal one.
   * One statement for the whole batch. Resolves with the ids written.
   */
  async writeStates(jobs: readonly Job[]): Promise<Set<string>> {
    if (jobs.length === 0) return new Set();
    const rows = jobs.map((job) => ({
      id: job.id,
      status: job.status,
      progress: job.progress,
      current_step: job.currentStep,
      message: job.message,
      estimated_completion: job.estimatedCompletion,
      result: job.result ?? null,
      error: job.error ?? null,
      version: job.version,
      updated_at: job.updatedAt,
    }));
    const { rows: written } = await this.db.query<{ id: string }>(
      `UPDATE jobs AS j SET status = v.status, progress = v.progress, current_step = v.current_step, message = v.message,
         estimated_completion = v.estimated_completion, result = v.result, error = v.error, version = v.version,
         updated_at = v.updated_at
       FROM jsonb_to_recordset($1::jsonb) AS v(id text, status text, progress double precision, current_step text,
         message text, estimated_completion timestamptz, result jsonb, error jsonb, version integer, updated_at timestamptz)
       WHERE j.id = v.id AND j.version < v.version AND j.status NOT IN (${TERMINAL_SQL}) AND v.status NOT IN (${TERMINAL_SQL})
       RETURNING j.id`,
      [JSON.stringify(rows)],
    );
    return new Set(written.map((r) => r.id));
  }

  /**
   * Commits a terminal state (completed, failed, cancelled) unless the job is terminal already: the one write that
   * makes a job final, durable before the caller answers. Its version becomes at least `job.version` (and above the
   * row's). Null when the job is terminal already or missing (`get` tells which).
   */
  async commitTerminal(job: Job): Promise<Job | null> {
    const { rows } = await this.db.query<JobRow>(
      `UPDATE jobs SET status = $2, progress = $3, current_step = $4, message = $5, estimated_completion = $6::timestamptz,
         result = $7::jsonb, error = $8::jsonb, version = GREATEST(version + 1, $9), updated_at = $10, completed_at = $11
       WHERE id = $1 AND status NOT IN (${TERMINAL_SQL}) RETURNING *`,
      [
        job.id,
        job.status,
        job.progress,
        job.currentStep,
        job.message,
        job.estimatedCompletion,
        jsonParam(job.result),
        jsonParam(job.error),
        job.version,
        job.updatedAt,
        job.completedAt ?? job.updatedAt,
      ],
    );
    return rows[0] ? toJob(rows[0]) : null;
  }

  /** Jobs queued or processing (every instance's). */
  async countActive(): Promise<number> {
    const { rows } = await this.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'processing')`);
    return Number(rows[0]?.n ?? 0);
  }
}
