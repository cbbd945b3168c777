/** Jobs and their current progress. Terminal states (completed, failed, cancelled) are final. */
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
  /** Grows with every update (1 at creation). */
  version: number;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

/** A progress update: `undefined` keeps a field, `null` clears it. */
export interface JobUpdate {
  status: JobStatus;
  progress?: number;
  currentStep?: string | null;
  message?: string | null;
  estimatedCompletion?: string | null;
  result?: unknown;
  error?: unknown;
}

export type JobUpdateResult = { ok: true; job: Job } | { ok: false; reason: 'not_found' } | { ok: false; reason: 'terminal'; job: Job };

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

  /** Applies an update unless the job is in a terminal state; one statement, so concurrent updates serialize. */
  async update(id: string, update: JobUpdate): Promise<JobUpdateResult> {
    const params: unknown[] = [id, update.status];
    const sets = ['status = $2', 'version = version + 1', 'updated_at = now()'];
    const set = (column: string, value: unknown, cast = '') => {
      params.push(value);
      sets.push(`${column} = $${params.length}${cast}`);
    };
    if (update.progress !== undefined) set('progress', update.progress);
    else if (update.status === 'completed') sets.push('progress = 1');
    if (update.currentStep !== undefined) set('current_step', update.currentStep);
    if (update.message !== undefined) set('message', update.message);
    if (update.estimatedCompletion !== undefined) set('estimated_completion', update.estimatedCompletion, '::timestamptz');
    if (update.result !== undefined) set('result', jsonParam(update.result), '::jsonb');
    if (update.error !== undefined) set('error', jsonParam(update.error), '::jsonb');
    if (TERMINAL_JOB_STATUSES.includes(update.status)) sets.push('completed_at = now()');
    const { rows } = await this.db.query<JobRow>(
      `UPDATE jobs SET ${sets.join(', ')} WHERE id = $1 AND status NOT IN (${TERMINAL_SQL}) RETURNING *`,
      params,
    );
    if (rows[0]) return { ok: true, job: toJob(rows[0]) };
    const current = await this.get(id);
    return current ? { ok: false, reason: 'terminal', job: current } : { ok: false, reason: 'not_found' };
  }

  /** Jobs queued or processing (every instance's). */
  async countActive(): Promise<number> {
    const { rows } = await this.db.query<{ n: number | string }>(
      `SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'processing')`,
    );
    return Number(rows[0]?.n ?? 0);
  }
}
