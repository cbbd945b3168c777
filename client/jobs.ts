/**
 * Following a job's progress (`WS /api/v1/realtime/generation/{job_id}`, SSE `/api/v1/realtime/sse/generation/{job_id}`
 * as the fallback). Every message is the job's whole state, so the follower hands each state to `onEvent` once:
 * a state equal to the last one delivered (the current state a reconnection starts with) or older than it is
 * dropped. Over WebSocket and SSE alike the stream resumes from the last event id, so no state is skipped either
 * (a `reset` says the server's history no longer reached back that far: states may have been skipped).
 * The follower stops by itself at a terminal state (completed, failed, cancelled).
 */
import { isJobId } from '../shared/channels.js';
import type { JobListResponse } from '../shared/dashboard-api.js';
import type { JobProgressData, JobProgressMessage, JobResetMessage, JobResponse, JobStatus } from '../shared/messages.js';
import type { ClientContext } from './context.js';
import { DeckhandError } from './errors.js';
import { asJobEvent, isJobProgressData } from './live/messages.js';
import { LiveStream, type LiveStatus, type TransportKind, type TransportMode } from './live/live-stream.js';
import { isTerminal } from './live/vocabulary.js';
import { requestJson } from './rest.js';

/** `job_progress`: a new state. `reset`: the stream could not replay what was missed; `data` is the current state. */
export type JobEvent = JobProgressMessage | JobResetMessage;

export interface FollowJobOptions {
  /** `auto` (default): WebSocket, then SSE if a WebSocket cannot be opened. */
  transport?: TransportMode;
  /** Errors; `fatal` ones (not found, permission denied, token refused) stopped the follower. */
  onError?(error: DeckhandError, fatal: boolean): void;
  onStatus?(status: LiveStatus): void;
}

function sameState(x: JobProgressData, y: JobProgressData): boolean {
  return (
    x.status === y.status &&
    x.progress === y.progress &&
    x.current_step === y.current_step &&
    x.message === y.message &&
    x.estimated_completion === y.estimated_completion
  );
}

export class JobFollower {
  private last: JobEvent | undefined;
  private readonly stream: LiveStream;
  private settle!: { resolve(data: JobProgressData): void; reject(error: DeckhandError): void };
  /** Resolves with the terminal state; rejects when the follower stops on a fatal error; stays pending after stop(). */
  readonly done: Promise<JobProgressData>;

  constructor(
    ctx: ClientContext,
    readonly jobId: string,
    private readonly onEvent: (event: JobEvent) => void,
    options: FollowJobOptions = {},
    /** Called once when the follower stops, whatever the reason. */
    onStopped: () => void = () => {},
  ) {
    if (!isJobId(jobId)) throw new TypeError(`not a job id: ${JSON.stringify(jobId)}`);
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // Callers that only use onEvent need not handle the rejection.
    this.done.catch(() => undefined);
    const encoded = encodeURIComponent(jobId);
    this.stream = new LiveStream(ctx, {
      wsPath: `/api/v1/realtime/generation/${encoded}`,
      ssePath: `/api/v1/realtime/sse/generation/${encoded}`,
      mode: options.transport ?? 'auto',
      onMessage: (message) => {
        const event = asJobEvent(message, jobId);
        if (event) this.receive(event);
      },
      onError: (error, fatal) => {
        options.onError?.(error, fatal);
        if (fatal) this.settle.reject(error);
      },
      onStatus: (status) => {
        options.onStatus?.(status);
        if (status.state === 'stopped') onStopped();
      },
    });
    this.stream.start();
  }

  /** The last state delivered, or null before the first. */
  get state(): JobProgressData | null {
    return this.last?.data ?? null;
  }

  get transport(): TransportKind {
    return this.stream.currentTransport;
  }

  stop(): void {
    this.stream.stop();
  }

  private receive(event: JobEvent): void {
    const last = this.last;
    if (last) {
      if (sameState(event.data, last.data) && (event.type === 'reset' || event.timestamp === last.timestamp)) return;
      if (event.type === 'job_progress' && last.type === 'job_progress' && Date.parse(event.timestamp) < Date.parse(last.timestamp)) return;
    }
    this.last = event;
    try {
      this.onEvent(event);
    } catch (err) {
      // The application's error: report it without breaking the stream (or losing its resume point).
      queueMicrotask(() => {
        throw err;
      });
    }
    if (isTerminal(event.data.status)) {
      this.stream.stop();
      this.settle.resolve(event.data);
    }
  }
}

/** The job's whole record (`GET /api/v1/jobs/{id}`: its owner or a job service), `result` included. */
export async function fetchJob(ctx: ClientContext, jobId: string): Promise<JobResponse> {
  if (!isJobId(jobId)) throw new TypeError(`not a job id: ${JSON.stringify(jobId)}`);
  const body = (await requestJson(ctx, 'GET', `/api/v1/jobs/${encodeURIComponent(jobId)}`)) as Record<string, unknown> | undefined;
  if (body?.job_id !== jobId || !isJobProgressData(body) || typeof body.user_id !== 'string') {
    throw new DeckhandError('INTERNAL_ERROR', `unexpected answer for job ${jobId}`);
  }
  return body as unknown as JobResponse;
}

/** Filters and paging of `listJobs` (`cursor`: the `next_cursor` of the previous page). */
export interface JobListOptions {
  status?: JobStatus;
  kind?: string;
  limit?: number;
  cursor?: string;
}

/** The signed-in user's jobs, newest first, a page at a time (`GET /api/v1/jobs`). */
export async function listJobs(ctx: ClientContext, options: JobListOptions = {}): Promise<JobListResponse> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(options)) if (value !== undefined) query.set(key, String(value));
  const search = query.toString();
  const body = (await requestJson(ctx, 'GET', `/api/v1/jobs${search ? `?${search}` : ''}`)) as Record<string, unknown> | undefined;
  const jobs = body?.jobs;
  const next = body?.next_cursor;
  const isJob = (j: unknown) => isJobProgressData(j) && typeof (j as unknown as Record<string, unknown>).job_id === 'string';
  if (!Array.isArray(jobs) || !jobs.every(isJob) || !(next === null || typeof next === 'string')) {
    throw new DeckhandError('INTERNAL_ERROR', 'unexpected job list from the server');
  }
  return { jobs: jobs as JobResponse[], next_cursor: next };
}

/** Cancels a job (its user, or a job service); followers see `cancelled`. CONFLICT when it had already ended. */
export async function cancelJob(ctx: ClientContext, jobId: string, reason?: string): Promise<JobResponse> {
  if (!isJobId(jobId)) throw new TypeError(`not a job id: ${JSON.stringify(jobId)}`);
  const body = (await requestJson(ctx, 'POST', `/api/v1/jobs/${encodeURIComponent(jobId)}/cancel`, reason === undefined ? {} : { reason })) as
    | Record<string, unknown>
    | undefined;
  if (body?.job_id !== jobId || !isJobProgressData(body)) throw new DeckhandError('INTERNAL_ERROR', `unexpected answer to cancelling job ${jobId}`);
  return body as unknown as JobResponse;
}
