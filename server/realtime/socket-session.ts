/**
 * What every JSON socket session does the same way: `ping` → `pong`, `auth` (a fresh token for the same user before
 * the current one expires), closing with AUTHENTICATION_FAILED when the token expires, errors as messages, and
 * delivery of bus events as shared frames (with the delivery latency observed once per event per instance).
 */
import type { FastifyBaseLogger } from 'fastify';
import { CLOSE_CODES } from '../../shared/errors.js';
import type { Principal } from '../auth/jwt.js';
import { parseEventId } from '../bus/event-id.js';
import type { BusEvent } from '../bus/types.js';
import { AppError } from '../http/errors.js';
import type { ConnectionMeter, Metrics } from '../metrics.js';
import { verifyToken } from './admission.js';
import type { RealtimeContext } from './context.js';
import { wsFrame } from './frames.js';
import type { JsonSocket } from './json-socket.js';
import { TokenLease } from './token-lease.js';

/** Observes publish → delivery latency once per event on this instance (not once per subscriber). */
export function observeDelivery(metrics: Metrics, event: BusEvent): void {
  event.memo('latency-observed', (e) => {
    const id = parseEventId(e.id);
    if (id) metrics.observeDelivery(e.channel.split('.')[0] ?? e.channel, (Date.now() - id.ms) / 1000);
    return true;
  });
}

export abstract class SocketSession<M extends { type: string }> {
  protected readonly lease: TokenLease;
  protected disposed = false;

  constructor(
    protected readonly conn: JsonSocket<M>,
    principal: Principal,
    protected readonly ctx: RealtimeContext,
    protected readonly meter: ConnectionMeter,
    protected readonly log: FastifyBaseLogger,
  ) {
    this.lease = new TokenLease(principal, () => {
      this.meter.disconnected('token_expired');
      conn.fail('AUTHENTICATION_FAILED', 'token expired: reconnect with a fresh token', CLOSE_CODES.AUTHENTICATION_FAILED.code, CLOSE_CODES.AUTHENTICATION_FAILED.reason);
    });
  }

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
    this.conn.sendFrame(wsFrame(event));
  }

  /** An AppError as its error message; anything else is logged and reported as INTERNAL_ERROR. */
  protected sendFailure(err: unknown): void {
    if (err instanceof AppError) {
      this.conn.sendError(err.code, err.message, err.details);
    } else {
      this.log.error({ err }, 'realtime request failed');
      this.conn.sendError('INTERNAL_ERROR', 'internal error');
    }
  }

  dispose(): void {
    this.disposed = true;
    this.lease.dispose();
  }
}
