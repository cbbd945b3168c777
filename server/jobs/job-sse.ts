/**
 * `GET /api/v1/realtime/sse/generation/{job_id}`: the job's events as SSE, each with the bus event id as its `id`.
 * - no Last-Event-ID: the current state (`job_progress`) first, then every later state;
 * - Last-Event-ID (header, or `?last_event_id=` for a fresh EventSource) still covered by the history: exactly the
 *   events after it (no gap, no repeat), then live;
 * - otherwise (too old, another epoch, garbage): a `reset` event with the current state, then live.
 * Errors before the stream opens are JSON (401, 403, 404, 429); an expired token ends the stream after an `error`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { jobChannel } from '../../shared/channels.js';
import { principalOf } from '../http/auth.js';
import type { Job } from '../store/jobs.js';
import { ChannelFollower } from '../streaming/follower.js';
import { sseFrame, sseFrameWithId } from '../streaming/frames.js';
import { openSseSession, SseSession, type SseOpening } from '../streaming/sse-session.js';
import type { JobsContext } from './context.js';
import { startJobStream, writeJobSnapshot, type JobStreamWriter } from './job-stream.js';

export async function streamJob(request: FastifyRequest, reply: FastifyReply, jobId: string, ctx: JobsContext): Promise<void> {
  const principal = principalOf(request);
  const job = await ctx.jobs.readable(principal, jobId);
  await openSseSession(request, reply, ctx, 'generation', principal, (opening) => new JobSseSession(ctx, opening, job));
}

class JobSseSession extends SseSession<JobsContext> {
  private readonly jobId: string;
  /** The state read when the request was authorized: the stream's start (then dropped). */
  private initial: Job | undefined;

  constructor(ctx: JobsContext, opening: SseOpening, job: Job) {
    super(ctx, opening);
    this.jobId = job.id;
    this.initial = job;
  }

  protected override logFields(): Record<string, unknown> {
    return { jobId: this.jobId };
  }

  protected async start(): Promise<void> {
    const { ctx, jobId, stream } = this;
    const job = this.initial!;
    this.initial = undefined;
    const writer: JobStreamWriter = {
      state: (message, eventId) => stream.write(sseFrame(eventId, message)),
      event: async (event) => {
        stream.write(sseFrameWithId(event));
        await stream.drained();
      },
    };
    const follower = this.follow(
      new ChannelFollower(
        ctx.bus,
        jobChannel(jobId),
        (event) => {
          this.observe(event);
          stream.write(sseFrameWithId(event));
        },
        () =>
          writeJobSnapshot(ctx, jobId, 'reset', writer).catch((err: unknown) => {
            this.log.warn({ err, jobId }, 'job stream resync failed');
            return {};
          }),
      ),
    );
    await follower.start();
    await startJobStream(ctx, follower, job, this.lastEventId, writer);
  }
}
