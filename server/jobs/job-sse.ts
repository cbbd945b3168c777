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
import { errorMessage } from '../../shared/errors.js';
import { principalOf } from '../http/auth.js';
import { acquireSseSlot } from '../streaming/admission.js';
import { ChannelFollower } from '../streaming/follower.js';
import { sseFrame, sseFrameWithId } from '../streaming/frames.js';
import { observeDelivery } from '../streaming/socket-session.js';
import { SseStream } from '../streaming/sse-stream.js';
import { lastEventIdOf } from '../streaming/sse-request.js';
import { TokenLease } from '../streaming/token-lease.js';
import type { JobsContext } from './context.js';
import { startJobStream, writeJobSnapshot, type JobStreamWriter } from './job-stream.js';

export async function streamJob(request: FastifyRequest, reply: FastifyReply, jobId: string, ctx: JobsContext): Promise<void> {
  const principal = principalOf(request);
  const job = await ctx.jobs.readable(principal, jobId);
  const release = await acquireSseSlot(ctx, 'generation-sse', principal);
  const lastEventId = lastEventIdOf(request);
  const channel = jobChannel(jobId);

  const meter = ctx.metrics.connection('generation', 'sse');
  const stream = new SseStream(reply, ctx.config.limits.outboundBufferBytes, meter, request.log);
  ctx.sse.add(stream);
  const writer: JobStreamWriter = {
    state: (message, eventId) => stream.write(sseFrame(eventId, message)),
    event: async (event) => {
      stream.write(sseFrameWithId(event));
      await stream.drained();
    },
  };

  const follower = new ChannelFollower(
    ctx.bus,
    channel,
    (event) => {
      observeDelivery(ctx.metrics, event);
      stream.write(sseFrameWithId(event));
    },
    () =>
      writeJobSnapshot(ctx, job, 'reset', writer).catch((err: unknown) => {
        request.log.warn({ err, jobId }, 'job stream resync failed');
        return {};
      }),
  );
  const lease = new TokenLease(principal, () => {
    meter.disconnected('token_expired');
    meter.error('AUTHENTICATION_FAILED');
    stream.write(sseFrame(undefined, errorMessage('AUTHENTICATION_FAILED', 'token expired: reconnect with a fresh token')));
    stream.end();
  });
  stream.onClose(() => {
    follower.stop();
    lease.dispose();
    release();
  });

  try {
    await follower.start();
    await startJobStream(ctx, follower, job, lastEventId, writer);
  } catch (err) {
    request.log.error({ err, jobId }, 'job stream failed');
    meter.error('INTERNAL_ERROR');
    stream.write(sseFrame(undefined, errorMessage('INTERNAL_ERROR', 'stream failed, reconnect')));
    stream.end();
  }
}
