/**
 * What every SSE session does the same way (the counterpart of SocketSession for event streams): a connection slot for
 * the user (429 before the stream opens when none is free), the stream and its meter, an `error` event with
 * AUTHENTICATION_FAILED and the end of the stream when the token expires (an EventSource cannot send a fresh token:
 * it reconnects with one), the followers stopped and the slot freed when the stream closes, and a start that fails
 * reported as an INTERNAL_ERROR event before the stream ends.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { errorMessage } from '../../shared/errors.js';
import type { Principal } from '../auth/jwt.js';
import type { BusEvent } from '../bus/types.js';
import type { ConnectionMeter, Manager } from '../metrics.js';
import { acquireSseSlot } from './admission.js';
import type { StreamingContext } from './context.js';
import { observeDelivery } from './delivery-latency.js';
import type { ChannelFollower } from './follower.js';
import { sseFrame } from './frames.js';
import { lastEventIdOf } from './sse-request.js';
import { SseStream } from './sse-stream.js';
import { TokenLease } from './token-lease.js';

/** What a session starts with: the open stream, its meter, the user, the slot, and the resume point. */
export interface SseOpening {
  stream: SseStream;
  meter: ConnectionMeter;
  principal: Principal;
  release: () => void;
  log: FastifyBaseLogger;
  /** `Last-Event-ID` (or `?last_event_id=`), when the client resumes. */
  lastEventId: string | undefined;
}

/**
 * Opens the stream of an authenticated (and authorized) request: takes the user's slot, hijacks the reply, then runs
 * the session `create` makes. Errors before the stream opens (429) are ordinary JSON responses.
 */
export async function openSseSession(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: StreamingContext,
  manager: Manager,
  principal: Principal,
  create: (opening: SseOpening) => SseSession,
): Promise<void> {
  const release = await acquireSseSlot(ctx, `${manager}-sse`, principal);
  const meter = ctx.metrics.connection(manager, 'sse');
  const stream = new SseStream(reply, ctx.config.limits.outboundBufferBytes, meter, ctx.log);
  ctx.sse.add(stream);
  const session = create({ stream, meter, principal, release, log: ctx.log, lastEventId: lastEventIdOf(request) });
  await session.run();
}

export abstract class SseSession<C extends StreamingContext = StreamingContext> {
  protected readonly stream: SseStream;
  protected readonly meter: ConnectionMeter;
  protected readonly log: FastifyBaseLogger;
  protected readonly lastEventId: string | undefined;
  private readonly lease: TokenLease;
  private readonly registered = new Set<ChannelFollower>();
  private disposed = false;

  constructor(
    protected readonly ctx: C,
    opening: SseOpening,
  ) {
    this.stream = opening.stream;
    this.meter = opening.meter;
    this.log = opening.log;
    this.lastEventId = opening.lastEventId;
    this.lease = new TokenLease(opening.principal, this);
    // Runs at once when the client went away while the request was authorized.
    this.stream.onClose(() => {
      this.disposed = true;
      for (const follower of this.registered) follower.stop();
      this.registered.clear();
      this.lease.dispose();
      opening.release();
    });
  }

  /** Sends what the stream starts with (snapshot, replay or reset) and releases the followers. */
  protected abstract start(): Promise<void>;

  /** What identifies the stream in its log lines (e.g. the job id). */
  protected logFields(): Record<string, unknown> {
    return {};
  }

  protected get principal(): Principal {
    return this.lease.current;
  }

  /** Runs `start`; a failure is logged and sent as an INTERNAL_ERROR event, and the stream ends (the client reconnects). */
  async run(): Promise<void> {
    try {
      await this.start();
    } catch (err) {
      this.log.error({ err, ...this.logFields() }, 'event stream failed');
      this.meter.error('INTERNAL_ERROR');
      this.stream.write(sseFrame(undefined, errorMessage('INTERNAL_ERROR', 'stream failed, reconnect')));
      this.stream.end();
    }
  }

  /** Registers a follower, stopped with the stream (at once when the stream is already closed). */
  protected follow(follower: ChannelFollower): ChannelFollower {
    if (this.disposed) follower.stop();
    else this.registered.add(follower);
    return follower;
  }

  /** Observes the delivery latency of a live event (once per event on this instance). */
  protected observe(event: BusEvent): void {
    observeDelivery(this.ctx.metrics, event);
  }

  /** The token expired: an `error` event, then the end of the stream (the EventSource reconnects with a fresh one). */
  tokenExpired(): void {
    this.meter.disconnected('token_expired');
    this.meter.error('AUTHENTICATION_FAILED');
    this.stream.write(sseFrame(undefined, errorMessage('AUTHENTICATION_FAILED', 'token expired: reconnect with a fresh token')));
    this.stream.end();
  }
}
