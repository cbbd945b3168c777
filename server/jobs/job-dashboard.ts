/**
 * What dashboards do with jobs besides following them: list a user's jobs (a page at a time, newest first) and cancel
 * one. A cancel is the terminal progress report a worker would send (JobsService.progress with `cancelled`), so it is
 * stored, committed and published exactly like one: followers see `cancelled`, and the worker's next progress report
 * gets 409 CONFLICT with the job's status.
 */
import type { JobListQuery } from '../../shared/dashboard-api.js';
import { canCancelJob, canReadJob } from '../access/policy.js';
import type { Principal } from '../auth/jwt.js';
import { DomainError } from '../errors.js';
import type { Job } from '../store/jobs.js';
import type { JobPage, JobQueries } from '../store/job-queries.js';
import { decodePageCursor } from '../store/page-cursor.js';
import type { JobsService } from './jobs-service.js';

export class JobDashboard {
  constructor(
    private readonly jobs: JobsService,
    private readonly queries: JobQueries,
  ) {}

  /** The caller's jobs, or (job services) `user_id`'s. */
  async list(principal: Principal, query: JobListQuery): Promise<JobPage> {
    const userId = query.user_id ?? principal.userId;
    if (!canReadJob(principal, userId)) throw new DomainError('PERMISSION_DENIED', 'only job services list another user’s jobs');
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor);
    if (after === null) throw new DomainError('INVALID_MESSAGE', 'cursor is not a next_cursor this server returned');
    // The list is read from Postgres, where progress arrives coalesced: this instance's pending states first.
    await this.jobs.writePending();
    return this.queries.list({ userId, status: query.status, kind: query.kind, limit: query.limit ?? 20, after });
  }

  /** Cancels the job for its user or a job service: 404 missing, 403 anyone else, 409 when already terminal. */
  async cancel(principal: Principal, id: string, reason: string | undefined): Promise<Job> {
    const job = await this.jobs.readable(principal, id);
    if (!canCancelJob(principal, job.userId)) throw new DomainError('PERMISSION_DENIED', 'only the job’s user and job services cancel it');
    return this.jobs.progress(id, { status: 'cancelled', message: reason ?? `cancelled by ${principal.userId}` });
  }
}
