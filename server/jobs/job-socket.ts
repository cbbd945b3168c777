/**
 * `WS /api/v1/realtime/generation/{job_id}`: follows the job in the URL, and more with `subscribe_job`.
 * server → client: `connected`, then for every subscribed job its current state (`job_progress`) followed by every
 * later state in order; `reset` (the current state, when the bus lost events: states may have been skipped);
 * `unsubscribed`, `pong`, `authenticated`, `error`.
 * Every `job_progress` and `reset` carries `event_id` (the bus event id, as the SSE stream's `id`): a client that
 * reconnects with `?last_event_id=` (or sends it in `subscribe_job`) gets exactly the states it missed, or a `reset`
 * when they are older than the history, as over SSE (./job-stream.ts).
 * A job that does not exist or that the user may not read: for the URL's job, an error then close 4404 / 4403;
 * for `subscribe_job`, an error and the socket lives on.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import { jobChannel } from '../../shared/channels.js';
import { CLOSE_CODES } from '../../shared/errors.js';
import { AuthMessage, PingMessage, SubscribeJobMessage, UnsubscribeJobMessage, type JobClientMessage } from '../../shared/messages.js';
import { DomainError } from '../errors.js';
import type { Principal } from '../auth/jwt.js';
import type { ConnectionMeter } from '../metrics.js';
import type { BusEvent } from '../bus/types.js';
import { ChannelFollower, type FollowerSink, type ReleaseOptions } from '../streaming/follower.js';
import { wsFrameWithId } from '../streaming/frames.js';
import type { JsonSocket } from '../streaming/json-socket.js';
import { createMessageParser } from '../streaming/message-parser.js';
import { observeDelivery } from '../streaming/delivery-latency.js';
import { openSessionSocket, SocketSession } from '../streaming/socket-session.js';
import { lastEventIdOf } from '../streaming/sse-request.js';
import type { Upgrade } from '../streaming/upgrade.js';
import type { JobsContext } from './context.js';
import { progressMessage } from './job-messages.js';
import { startJobStream, writeJobSnapshot, type JobStreamWriter } from './job-stream.js';

/** Jobs one socket may follow at once. */
export const MAX_JOBS_PER_SOCKET = 50;

const parseMessage = createMessageParser<JobClientMessage>({
  ping: PingMessage,
  auth: AuthMessage,
  subscribe_job: SubscribeJobMessage,
  unsubscribe_job: UnsubscribeJobMessage,
});

export function openJobSocket(socket: WebSocket, upgrade: Upgrade, ctx: JobsContext): void {
  const jobId = upgrade.params.job_id!;
  const lastEventId = lastEventIdOf(upgrade);
  openSessionSocket(socket, upgrade, ctx, 'generation', parseMessage, (conn, principal, meter) => {
    return new JobSession(conn, principal, ctx, meter, ctx.log, jobId, lastEventId);
  });
}

class JobSession extends SocketSession<JobClientMessage, JobsContext> implements FollowerSink {
  constructor(
    conn: JsonSocket<JobClientMessage>,
    principal: Principal,
    ctx: JobsContext,
    meter: ConnectionMeter,
    log: FastifyBaseLogger,
    /** The URL's job, and where to resume it (`?last_event_id=`). */
    private readonly jobId: string,
    private readonly lastEventId: string | undefined,
  ) {
    super(conn, principal, ctx, meter, log);
  }

  async start(): Promise<void> {
    const { jobId, lastEventId } = this;
    this.conn.send({
      type: 'connected',
      user_id: this.principal.userId,
      job_id: jobId,
      token_expires_at: new Date(this.principal.expiresAt).toISOString(),
      timestamp: new Date().toISOString(),
    });
    try {
      await this.subscribe(jobId, lastEventId);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'NOT_FOUND') {
        this.conn.fail(err.code, err.message, CLOSE_CODES.NOT_FOUND.code, CLOSE_CODES.NOT_FOUND.reason);
      } else if (err instanceof DomainError && err.code === 'PERMISSION_DENIED') {
        this.conn.fail(err.code, err.message, CLOSE_CODES.PERMISSION_DENIED.code, CLOSE_CODES.PERMISSION_DENIED.reason);
      } else {
        this.sendFailure(err);
        this.conn.close(CLOSE_CODES.TRY_AGAIN_LATER.code, CLOSE_CODES.TRY_AGAIN_LATER.reason);
      }
      return;
    }
    this.conn.handle(this);
  }

  /** A message of the connection (called by the JsonSocket). */
  async onMessage(message: JobClientMessage): Promise<void> {
    if (this.handleCommon(message)) return;
    try {
      if (message.type === 'subscribe_job') await this.subscribe(message.job_id, message.last_event_id);
      else if (message.type === 'unsubscribe_job') this.unsubscribe(message.job_id);
    } catch (err) {
      this.sendFailure(err);
    }
  }

  /**
   * Follows a job: its current state first (or, from `lastEventId`, the events after it), then every later state.
   * Again for a followed job: its state again (untagged: the socket's resume point stays where its events are).
   */
  private async subscribe(jobId: string, lastEventId?: string): Promise<void> {
    const job = await this.ctx.jobs.readable(this.principal, jobId);
    const existing = this.follows.get(jobId);
    if (existing) {
      this.conn.send(progressMessage(job));
      existing.advance(undefined, job.version);
      return;
    }
    if (this.follows.size >= MAX_JOBS_PER_SOCKET) {
      throw new DomainError('RATE_LIMIT_EXCEEDED', `at most ${MAX_JOBS_PER_SOCKET} jobs per connection: unsubscribe_job first`);
    }
    // The session is the sink of its followers, which keep the job's id only: one follower per idle subscriber.
    const follower = new ChannelFollower(this.ctx.bus, jobChannel(jobId), this, undefined, jobId);
    this.follows.set(jobId, follower);
    try {
      await follower.start();
      if (this.disposed) return follower.stop();
      await startJobStream(this.ctx, follower, job, lastEventId, this.writer());
    } catch (err) {
      this.follows.delete(jobId);
      follower.stop();
      throw err;
    }
  }

  /** FollowerSink: a live event, as its shared frame (tagged with its id, as the replayed ones are). */
  followed(event: BusEvent): void {
    observeDelivery(this.ctx.metrics, event);
    this.conn.sendEncoded(wsFrameWithId(event));
  }

  /** States and replayed events, each tagged with its event id (`event_id`), so the client can resume from it. */
  private writer(): JobStreamWriter {
    return {
      state: (message, eventId) => this.conn.send({ event_id: eventId, ...message }),
      event: (event) => {
        this.conn.sendEncoded(wsFrameWithId(event));
      },
    };
  }

  private unsubscribe(jobId: string): void {
    this.follows.get(jobId)?.stop();
    this.follows.delete(jobId);
    this.conn.send({ type: 'unsubscribed', job_id: jobId, timestamp: new Date().toISOString() });
  }

  /**
   * The bus lost events (Redis restart): the current state from Postgres, as a `reset` (states may have been skipped),
   * before any live event that arrived meanwhile.
   */
  async lost(follower: ChannelFollower): Promise<ReleaseOptions> {
    const jobId = follower.tag;
    if (this.disposed || !this.follows.has(jobId)) return {};
    try {
      return await writeJobSnapshot(this.ctx, jobId, 'reset', this.writer());
    } catch (err) {
      this.log.warn({ err, jobId }, 'job resync failed');
      return {};
    }
  }
}
