/**
 * What every JSON socket session does the same way: `ping` → `pong`, `auth` (a fresh token for the same user before
 * the current one expires), closing with AUTHENTICATION_FAILED when the token expires, errors as messages, and
 * delivery of bus events as shared frames (with the delivery latency observed once per event per instance).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '../../shared/errors.js';
import type { Principal } from '../auth/jwt.js';
import type { BusEvent } from '../bus/types.js';
import { DomainError } from '../errors.js';
import type { ConnectionMeter, Manager } from '../metrics.js';
import { verifyToken } from '../auth/verify-token.js';
import { admitSocket } from './admission.js';
import type { StreamingContext } from './context.js';
import { observeDelivery } from './delivery-latency.js';
import type { ChannelFollower } from './follower.js';
import { wsFrame } from './frames.js';
import { JsonSocket } from './json-socket.js';
import type { ParseResult } from './message-parser.js';
import { TokenLease } from './token-lease.js';
import type { Upgrade } from './upgrade.js';

/**
 * A JSON WebSocket of one kind, from upgrade to session: the socket's limits and the server's pings (a peer that
 * stops answering is dropped), admission (origin, token, per-user slot: refusals are an error message and a close),
 * then the session `create` makes, started, and disposed on close.
 */
export function openSessionSocket<M extends { type: string }>(
  socket: WebSocket,
  upgrade: Upgrade,
  ctx: StreamingContext,
  manager: Manager,
  parse: (text: string) => ParseResult<M>,
  create: (conn: JsonSocket<M>, principal: Principal, meter: ConnectionMeter) => SocketSession<M, StreamingContext>,
): void {
  const meter = ctx.metrics.connection(manager, 'ws');
  const conn = new JsonSocket(socket, ctx.socketLimits, parse, meter, ctx.log, ctx.heartbeat, upgrade.stream);
  ctx.heartbeat.add(socket, meter);
  void admitSocket(conn, upgrade, ctx, `${manager}-ws`).then(
    (admission) => {
      if (!admission) return;
      const session = create(conn, admission.principal, meter);
      conn.attach(session);
      session.start().catch((err: unknown) => ctx.log.error({ err }, 'realtime session failed'));
    },
    (err: unknown) => {
      ctx.log.error({ err }, 'realtime admission failed');
      conn.fail('INTERNAL_ERROR', 'internal error', CLOSE_CODES.TRY_AGAIN_LATER.code, CLOSE_CODES.TRY_AGAIN_LATER.reason);
    },
  );
}

export abstract class SocketSession<M extends { type: string }, C extends StreamingContext = StreamingContext> {
  protected readonly lease: TokenLease;
  protected disposed = false;
  /** The bus channels this socket follows, by the name the client knows them by. */
  protected readonly follows = new Map<string, ChannelFollower>();

  constructor(
    protected readonly conn: JsonSocket<M>,
    principal: Principal,
    protected readonly ctx: C,
    protected readonly meter: ConnectionMeter,
    protected readonly log: FastifyBaseLogger,
  ) {
    this.lease = new TokenLease(principal, this);
  }

  /** The lease's token expired without a fresh one: AUTHENTICATION_FAILED, then the close. */
  tokenExpired(): void {
    this.meter.disconnected('token_expired');
    this.conn.fail(
      'AUTHENTICATION_FAILED',
      'token expired: reconnect with a fresh token',
      CLOSE_CODES.AUTHENTICATION_FAILED.code,
      CLOSE_CODES.AUTHENTICATION_FAILED.reason,
    );
  }

  /** Sends what the socket starts with (`connected`, first states) and starts handling client messages. */
  abstract start(): Promise<void>;

  protected get principal(): Principal {
    return this.lease.current;
  }

  /** Handles `ping` and `auth`; false for the session's own message types. */
  protected handleCommon(message: M): boolean {
    if (message.type === 'ping') {
      this.conn.send({ type: 'pong', timestamp: new Date().toISOString() });
      return true;
    }
    if (message.type === 'auth') {
      const token = (message as unknown as { token: string }).token;
      try {
        const next = verifyToken(this.ctx.verifier, token);
        if (!this.lease.renew(next)) {
          this.conn.sendError('PERMISSION_DENIED', 'the new token is for another user: open a new connection');
        } else {
          this.conn.send({ type: 'authenticated', token_expires_at: new Date(next.expiresAt).toISOString(), timestamp: new Date().toISOString() });
        }
      } catch (err) {
        this.sendFailure(err);
      }
      return true;
    }
    return false;
  }

  /** Sends a bus event's shared frame. */
  protected deliver(event: BusEvent): void {
    observeDelivery(this.ctx.metrics, event);
    this.conn.sendEncoded(wsFrame(event));
  }

  /** An DomainError as its error message; anything else is logged and reported as INTERNAL_ERROR. */
  protected sendFailure(err: unknown): void {
    if (err instanceof DomainError) {
      this.conn.sendError(err.code, err.message, err.details);
    } else {
      this.log.error({ err }, 'realtime request failed');
      this.conn.sendError('INTERNAL_ERROR', 'internal error');
    }
  }

  dispose(): void {
    this.disposed = true;
    this.lease.dispose();
    for (const follower of this.follows.values()) follower.stop();
    this.follows.clear();
  }
}
