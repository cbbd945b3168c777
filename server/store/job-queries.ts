/** Read queries over jobs for dashboards (the write path is ./jobs.ts): a user's jobs, newest first, a page at a time. */
import type { JobStatus } from '../../shared/messages.js';
import type { Db } from './db.js';
import { toJob, type Job, type JobRow } from './jobs.js';
import { cursorAtSql, toPage, type PageKey } from './page-cursor.js';

export interface JobFilter {
  userId: string;
  status?: JobStatus;
  kind?: string;
  limit: number;
  /** Start after this row (a decoded cursor). */
  after?: PageKey;
}

export interface JobPage {
  jobs: Job[];
  nextCursor: string | null;
}

export class JobQueries {
  constructor(private readonly db: Db) {}

  /** The user's jobs, newest first (index jobs_user: user_id, created_at DESC). */
  async list(filter: JobFilter): Promise<JobPage> {
    const params: unknown[] = [filter.userId];
    const where = ['user_id = $1'];
    const add = (sql: (n: number) => string, value: unknown) => {
      params.push(value);
      where.push(sql(params.length));
    };
    if (filter.status) add((n) => `status = $${n}`, filter.status);
    if (filter.kind) add((n) => `kind = $${n}`, filter.kind);
    if (filter.after) {
      params.push(filter.after.at, filter.after.id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(filter.limit + 1);
    const { rows } = await this.db.query<JobRow & { cursor_at: string }>(
      `SELECT *, ${cursorAtSql()} AS cursor_at FROM jobs WHERE ${where.join(' AND ')}
       ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const page = toPage(rows, filter.limit, toJob, (row) => row.id);
    return { jobs: page.items, nextCursor: page.nextCursor };
  }
}
