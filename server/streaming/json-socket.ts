/**
 * A JSON WebSocket connection (job progress, notifications) with its limits (each configurable):
 * - a frame over maxFrameBytes gets PAYLOAD_TOO_LARGE and close 1009 (the shared ws server's maxPayload is the
 *   larger collaboration limit, so the JSON limit is enforced here);
 * - a token bucket per connection: a message without a token is dropped with RATE_LIMIT_EXCEEDED (at most one such
 *   error per second, so a flood does not double itself); a connection that goes on flooding (more than
 *   FLOOD_FACTOR × burst messages dropped within FLOOD_WINDOW_MS) is closed with RATE_LIMIT_EXCEEDED (4429);
 * - frames wait for their turn as raw bytes (parsed only when handled, so nothing is parsed before the connection is
 *   admitted), at most QUEUED_FRAMES_FACTOR × maxFrameBytes of them: past that a frame is dropped as over the rate;
 * - anything that is not a valid message (binary, not JSON, wrong shape) gets INVALID_MESSAGE, in order with the
 *   answers to the messages before it, and the socket lives on;
 * - outbound: when the socket's unsent bytes (ws bufferedAmount) pass outboundCap the reader is too slow: it is
 *   closed with 4429 (and cut after a grace second if it does not read the close frame) instead of growing memory.
 * Messages are handled one at a time, in order. Every message sent carries `timestamp`.
 */
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import WebSocket from 'ws';
import { CLOSE_CODES, errorMessage, type ErrorCode } from '../../shared/errors.js';
import type { ConnectionMeter } from '../metrics.js';
import type { ParseResult } from './message-parser.js';
import { TokenBucket } from './token-bucket.js';
import { canWriteDirectly, type WireFrame } from './wire-frame.js';

export interface JsonSocketLimits {
  maxFrameBytes: number;
  outboundCap: number;
  rateBurst: number;
  ratePerSec: number;
}

const SLOW_READER_GRACE_MS = 1000;
const RATE_ERROR_INTERVAL_MS = 1000;
/** A connection that had more than FLOOD_FACTOR × burst messages dropped within FLOOD_WINDOW_MS is disconnected. */
export const FLOOD_WINDOW_MS = 10_000;
export const FLOOD_FACTOR = 10;
/** Bytes of frames waiting to be handled, in max frames. */
const QUEUED_FRAMES_FACTOR = 4;

/** Where a socket's JsonSocket is found by the shared listeners. */
const OWNER = Symbol('deckhand.jsonSocket');
type OwnedSocket = WebSocket & { [OWNER]?: JsonSocket<unknown> };

/** Receives a connection's parsed messages (the session: a method, not a closure per connection). */
export interface MessageHandler<M> {
  onMessage(message: M): Promise<void> | void;
}

function onSocketMessage(this: OwnedSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  this[OWNER]?.receive(data, isBinary);
}

function onSocketClose(this: OwnedSocket): void {
  this[OWNER]?.socketClosed();
}

function onSocketError(this: OwnedSocket, err: Error): void {
  this[OWNER]?.socketErrored(err);
}

export class JsonSocket<M> {
  private readonly bucket: TokenBucket;
  private handler: MessageHandler<M> | undefined;
  /** The frames' turn: each runs after the one before (undefined while idle). */
  private chain: Promise<void> | undefined;
  /** Frames received before the session is ready (handle()). */
  private waiting: (() => Promise<void> | void)[] | undefined;
  private lastRateError = 0;
  private floodWindowStart = 0;
  private droppedInWindow = 0;
  private queuedBytes = 0;
  private closing = false;
  private session: { dispose(): void } | undefined;
  /** Exactly sized (a pushed-to array reserves 17 slots; every idle subscriber has one). */
  private closeCallbacks: readonly (() => void)[] = [];
  private readonly stream: Duplex | undefined;

  constructor(
    readonly socket: WebSocket,
    private readonly limits: JsonSocketLimits,
    private readonly parse: (text: string) => ParseResult<M>,
    private readonly meter: ConnectionMeter,
    private readonly log: FastifyBaseLogger,
    /** Told when the socket closes (the server's pings, ./heartbeat.ts), so it needs no close listener of its own. */
    private readonly heartbeat?: { remove(socket: WebSocket): void },
    /** The socket's stream, when shared frames may be written on it whole (./wire-frame.ts); else ws frames them. */
    stream?: Duplex,
  ) {
    this.stream = stream && canWriteDirectly(socket) ? stream : undefined;
    this.bucket = new TokenBucket(limits.rateBurst, limits.ratePerSec);
    // One listener function of each kind for every socket of the process, finding this object on the socket: three
    // closures and their context per connection were ~300 B of every idle subscriber's heap.
    (socket as OwnedSocket)[OWNER] = this as JsonSocket<unknown>;
    socket.on('message', onSocketMessage);
    socket.on('close', onSocketClose);
    socket.on('error', onSocketError);
  }

  /** The socket closed: runs the close callbacks and disposes of the session (from onSocketClose). */
  socketClosed(): void {
    this.closing = true;
    this.heartbeat?.remove(this.socket);
    this.meter.closed();
    const callbacks = this.closeCallbacks;
    this.closeCallbacks = [];
    const session = this.session;
    this.session = undefined;
    for (const callback of session ? [...callbacks, () => session.dispose()] : callbacks) {
      try {
        callback();
      } catch (err) {
        this.log.error({ err }, 'realtime socket cleanup failed');
      }
    }
  }

  socketErrored(err: Error): void {
    this.log.debug({ err: { message: err.message } }, 'realtime socket error');
  }

  get isOpen(): boolean {
    return !this.closing && this.socket.readyState === WebSocket.OPEN;
  }

  /** The session: disposed when the socket closes (at once if it has), without a close callback of its own. */
  attach(session: { dispose(): void }): void {
    if (this.socket.readyState === WebSocket.CLOSED) session.dispose();
    else this.session = session;
  }

  onClose(callback: () => void): void {
    if (this.socket.readyState === WebSocket.CLOSED) callback();
    else this.closeCallbacks = [...this.closeCallbacks, callback];
  }

  /** Starts handling messages (those received so far first). */
  handle(handler: MessageHandler<M>): void {
    this.handler = handler;
    const waiting = this.waiting ?? [];
    this.waiting = undefined;
    for (const task of waiting) this.enqueue(task);
  }

  /** Serializes and sends one message of this connection. */
  send(message: object): boolean {
    return this.sendFrame(JSON.stringify(message));
  }

  /** Sends an already serialized frame (shared by every subscriber of an event). */
  sendFrame(frame: Buffer | string, onWritten?: (err?: Error) => void): boolean {
    if (!this.mayWrite()) return false;
    this.socket.send(frame, { binary: false }, onWritten);
    this.meter.sent();
    return true;
  }

  /** Sends a shared, already encoded frame: one write of the whole frame on the stream where ws allows it. */
  sendEncoded(frame: WireFrame): boolean {
    if (!this.stream) return this.sendFrame(frame.payload);
    if (!this.mayWrite()) return false;
    this.stream.write(frame.wire);
    this.meter.sent();
    return true;
  }

  /** Open, and its unsent bytes under the cap (over it, the reader is cut as too slow). */
  private mayWrite(): boolean {
    if (!this.isOpen) return false;
    if (this.socket.bufferedAmount <= this.limits.outboundCap) return true;
    this.cutSlowReader();
    return false;
  }

  /**
   * Sends a message of a backlog (e.g. unread notifications on connect) and, when the outbound buffer is past half
   * the cap, waits until this frame is written: a long backlog is paced by the reader instead of cut as slow.
   */
  async sendPaced(message: object): Promise<void> {
    let written!: () => void;
    const flushed = new Promise<void>((resolve) => (written = resolve));
    if (!this.sendFrame(JSON.stringify(message), () => written())) return;
    if (this.socket.bufferedAmount > this.limits.outboundCap / 2) await flushed;
  }

  sendError(code: ErrorCode, message: string, details?: unknown): void {
    this.meter.error(code);
    this.send(errorMessage(code, message, details));
  }

  /** Sends an error, then closes with `closeCode`. */
  fail(code: ErrorCode, message: string, closeCode: number, closeReason: string = code): void {
    this.sendError(code, message);
    this.close(closeCode, closeReason);
  }

  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.close(code, reason.slice(0, 120));
  }

  /** A frame from the socket (from onSocketMessage). */
  receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.closing) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (bytes.length > this.limits.maxFrameBytes) {
      this.meter.disconnected('payload_too_large');
      this.fail(
        'PAYLOAD_TOO_LARGE',
        `message of ${bytes.length} bytes is over the ${this.limits.maxFrameBytes}-byte limit`,
        CLOSE_CODES.MESSAGE_TOO_BIG.code,
        CLOSE_CODES.MESSAGE_TOO_BIG.reason,
      );
      return;
    }
    if (!this.bucket.take() || this.queuedBytes + bytes.length > QUEUED_FRAMES_FACTOR * this.limits.maxFrameBytes) {
      this.dropped();
      return;
    }
    this.queuedBytes += bytes.length;
    this.enqueue(() => {
      this.queuedBytes -= bytes.length;
      return this.process(bytes, isBinary);
    });
  }

  /** Runs `task` after every frame received before it (skipped once the socket is closing). */
  private enqueue(task: () => Promise<void> | void): void {
    // Messages that arrive before the session is ready wait, in order, until handle() is called.
    if (!this.handler) {
      this.waiting = [...(this.waiting ?? []), task];
      return;
    }
    const next: Promise<void> = (this.chain ?? Promise.resolve())
      .then(() => (this.isOpen ? task() : undefined))
      .catch((err: unknown) => {
        this.log.error({ err }, 'realtime message handler failed');
        if (this.isOpen) this.sendError('INTERNAL_ERROR', 'the message could not be handled');
      })
      .then(() => {
        if (this.chain === next) this.chain = undefined;
      });
    this.chain = next;
  }

  /** A frame over the rate: dropped with an error (at most one a second); a connection that goes on is closed. */
  private dropped(): void {
    const now = Date.now();
    if (now - this.floodWindowStart > FLOOD_WINDOW_MS) {
      this.floodWindowStart = now;
      this.droppedInWindow = 0;
    }
    if (++this.droppedInWindow > FLOOD_FACTOR * this.limits.rateBurst) {
      this.meter.disconnected('flood');
      this.fail(
        'RATE_LIMIT_EXCEEDED',
        `too many messages dropped (over ${FLOOD_FACTOR * this.limits.rateBurst} in ${FLOOD_WINDOW_MS / 1000} s): disconnected`,
        CLOSE_CODES.RATE_LIMIT_EXCEEDED.code,
        CLOSE_CODES.RATE_LIMIT_EXCEEDED.reason,
      );
      return;
    }
    if (now - this.lastRateError >= RATE_ERROR_INTERVAL_MS) {
      this.lastRateError = now;
      // In order with the answers to the frames before the dropped one.
      const message = `too many messages: at most ${this.limits.ratePerSec}/s (bursts of ${this.limits.rateBurst}); message dropped`;
      this.enqueue(() => this.sendError('RATE_LIMIT_EXCEEDED', message));
    }
  }

  /** Parses and handles one frame, in order with the others. */
  private async process(bytes: Buffer, isBinary: boolean): Promise<void> {
    if (isBinary) {
      this.sendError('INVALID_MESSAGE', 'binary frames are not accepted: send JSON text');
      return;
    }
    const parsed = this.parse(bytes.toString('utf8'));
    if (!parsed.ok) {
      this.sendError('INVALID_MESSAGE', parsed.message, parsed.details);
      return;
    }
    await this.handler?.onMessage(parsed.message);
  }

  private cutSlowReader(): void {
    if (this.closing) return;
    this.meter.disconnected('slow_consumer');
    this.meter.error('RATE_LIMIT_EXCEEDED');
    this.log.info({ buffered: this.socket.bufferedAmount }, 'slow reader disconnected: outbound buffer over the cap');
    this.close(CLOSE_CODES.RATE_LIMIT_EXCEEDED.code, 'RATE_LIMIT_EXCEEDED: slow reader');
    setTimeout(() => {
      if (this.socket.readyState !== WebSocket.CLOSED) this.socket.terminate();
    }, SLOW_READER_GRACE_MS).unref();
  }
}
