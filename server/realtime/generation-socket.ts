/**
 * `WS /api/v1/realtime/generation/{job_id}`: follows the job in the URL, and more with `subscribe_job`.
 * server → client: `connected`, then for every subscribed job its current state (`job_progress`) followed by every
 * later state in order; `reset` (the current state, when the bus lost events: states may have been skipped);
 * `unsubscribed`, `pong`, `authenticated`, `error`.
 * A job that does not exist or that the user may not read: for the URL's job, an error then close 4404 / 4403;
 * for `subscribe_job`, an error and the socket lives on.
 */
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { jobChannel } from '../../shared/channels.js';
import { CLOSE_CODES } from '../../shared/errors.js';
import {
  AuthMessage,
  JSON_SOCKET_CLOSE_CODES,
  PingMessage,
  SubscribeJobMessage,
  UnsubscribeJobMessage,
  type GenerationClientMessage,
} from '../../shared/messages.js';
import { AppError } from '../http/errors.js';
import { admitSocket } from './admission.js';
import type { RealtimeContext } from './context.js';
import { ChannelFollower, type ReleaseOptions } from './follower.js';
import { progressMessage, resetMessage } from './jobs.js';
import { JsonSocket } from './json-socket.js';
import { createMessageParser } from './message-parser.js';
import { SocketSession } from './socket-session.js';

/** Jobs one socket may follow at once. */
export const MAX_JOBS_PER_SOCKET = 50;

const parseMessage = createMessageParser<GenerationClientMessage>({
  ping: PingMessage,
  auth: AuthMessage,
  subscribe_job: SubscribeJobMessage,
  unsubscribe_job: UnsubscribeJobMessage,
});

export function openGenerationSocket(socket: WebSocket, request: FastifyRequest, jobId: string, ctx: RealtimeContext): void {
  const meter = ctx.metrics.connection('generation', 'ws');
  const conn = new JsonSocket(socket, ctx.socketLimits, parseMessage, meter, request.log);
  void admitSocket(conn, request, ctx, 'generation-ws').then(
    (admission) => {
      if (!admission) return;
      const session = new GenerationSession(conn, admission.principal, ctx, meter, request.log);
      conn.onClose(() => session.dispose());
      session.start(jobId).catch((err: unknown) => request.log.error({ err }, 'realtime session failed'));
    },
    (err: unknown) => {
      request.log.error({ err }, 'realtime admission failed');
      conn.fail('INTERNAL_ERROR', 'internal error', CLOSE_CODES.TRY_AGAIN_LATER.code, CLOSE_CODES.TRY_AGAIN_LATER.reason);
    },
  );
}

class GenerationSession extends SocketSession<GenerationClientMessage> {
  private readonly follows = new Map<string, ChannelFollower>();

  async start(jobId: string): Promise<void> {
    this.conn.send({
      type: 'connected',
      user_id: this.principal.userId,
      job_id: jobId,
      token_expires_at: new Date(this.principal.expiresAt).toISOString(),
      timestamp: new Date().toISOString(),
    });
    try {
      await this.subscribe(jobId);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') {
        this.conn.fail(err.code, err.message, JSON_SOCKET_CLOSE_CODES.NOT_FOUND.code, JSON_SOCKET_CLOSE_CODES.NOT_FOUND.reason);
      } else if (err instanceof AppError && err.code === 'PERMISSION_DENIED') {
        this.conn.fail(err.code, err.message, CLOSE_CODES.PERMISSION_DENIED.code, CLOSE_CODES.PERMISSION_DENIED.reason);
      } else {
        this.sendFailure(err);
        this.conn.close(CLOSE_CODES.TRY_AGAIN_LATER.code, CLOSE_CODES.TRY_AGAIN_LATER.reason);
      }
      return;
    }
    this.conn.handle((message) => this.onMessage(message));
  }

  override dispose(): void {
    super.dispose();
    for (const follower of this.follows.values()) follower.stop();
    this.follows.clear();
  }

  private async onMessage(message: GenerationClientMessage): Promise<void> {
    if (this.handleCommon(message)) return;
    try {
      if (message.type === 'subscribe_job') await this.subscribe(message.job_id);
      else if (message.type === 'unsubscribe_job') this.unsubscribe(message.job_id);
    } catch (err) {
      this.sendFailure(err);
    }
  }

  /** Follows a job: its current state first, then every later state. Again for a followed job: its state again. */
  private async subscribe(jobId: string): Promise<void> {
    const job = await this.ctx.jobs.readable(this.principal, jobId);
    const existing = this.follows.get(jobId);
    if (existing) {
      this.conn.send(progressMessage(job));
      existing.advance(undefined, job.version);
      return;
    }
    if (this.follows.size >= MAX_JOBS_PER_SOCKET) {
      throw new AppError('RATE_LIMIT_EXCEEDED', `at most ${MAX_JOBS_PER_SOCKET} jobs per connection: unsubscribe_job first`);
    }
    const follower = new ChannelFollower(
      this.ctx.bus,
      jobChannel(jobId),
      (event) => this.deliver(event),
      () => this.resync(jobId),
    );
    this.follows.set(jobId, follower);
    try {
      await follower.start();
      if (this.disposed) return follower.stop();
      // Read after the subscription is live: no state can fall between the snapshot and the first event.
      const current = (await this.ctx.jobs.current(jobId)) ?? job;
      this.conn.send(progressMessage(current));
      follower.release({ afterSeq: current.version });
    } catch (err) {
      this.follows.delete(jobId);
      follower.stop();
      throw err;
    }
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
  private async resync(jobId: string): Promise<ReleaseOptions> {
    try {
      const job = await this.ctx.jobs.current(jobId);
      if (!job || this.disposed || !this.follows.has(jobId)) return {};
      this.conn.send(resetMessage(job));
      return { afterSeq: job.version };
    } catch (err) {
      this.log.warn({ err, jobId }, 'job resync failed');
      return {};
    }
  }
}
