/**
 * A small Server-Sent Events writer on Fastify's raw response (the route hijacks the reply after auth, so errors
 * before the stream opens are ordinary JSON responses):
 * - headers from Fastify's hooks (CORS, helmet, rate-limit) are kept, plus `text/event-stream`, no caching, no proxy
 *   buffering; a `retry:` hint first;
 * - frames are strings or shared Buffers (see frames.ts); a write when the response's unsent bytes
 *   (writableLength: the response's and its socket's buffers) are over the cap disconnects the slow reader;
 * - one keepalive timer for all streams (SseHub) writes a comment line every SSE_KEEPALIVE_INTERVAL;
 * - SseHub.closeAll() ends every stream on shutdown (EventSource then reconnects, to another instance).
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { ConnectionMeter } from '../metrics.js';

const RETRY_MS = 2000;
const KEEPALIVE = Buffer.from(': keepalive\n\n');

export class SseStream {
  /** The raw response: the stream keeps nothing else of the request (Fastify's reply and request are let go). */
  private readonly res: ServerResponse;
  private closed = false;
  /** Exactly sized (a pushed-to array reserves 17 slots; every idle subscriber has one). */
  private closeCallbacks: readonly (() => void)[] = [];

  constructor(
    reply: FastifyReply,
    private readonly outboundCap: number,
    private readonly meter: ConnectionMeter,
    private readonly log: FastifyBaseLogger,
  ) {
    const res = reply.raw;
    this.res = res;
    reply.hijack();
    const headers: Record<string, string | number | string[]> = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) headers[name] = value as string | number | string[];
    }
    delete headers['content-length'];
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.on('close', () => this.finish());
    res.on('error', (err) => this.log.debug({ err: { message: err.message } }, 'sse stream error'));
    // The client may have gone while the request was authorized (token, job, connection slot): its 'close' has been
    // emitted already, so finish now, or the stream, its subscriptions and its connection slot would stay forever.
    if (res.destroyed || !res.socket || res.socket.destroyed || reply.request.raw.destroyed) {
      this.finish();
      return;
    }
    res.socket.setNoDelay(true);
    res.write(`retry: ${RETRY_MS}\n\n`);
    flattenHeaderBlock(res);
  }

  get isOpen(): boolean {
    return !this.closed && !this.res.destroyed;
  }

  onClose(callback: () => void): void {
    if (this.closed) callback();
    else this.closeCallbacks = [...this.closeCallbacks, callback];
  }

  /** Writes one frame (optionally prefixed by a per-stream `id:` line); false when closed or cut for slowness. */
  write(frame: string | Buffer, idLine?: string): boolean {
    if (!this.isOpen) return false;
    const res = this.res;
    if (res.writableLength > this.outboundCap) {
      this.meter.disconnected('slow_consumer');
      this.meter.error('RATE_LIMIT_EXCEEDED');
      this.log.info({ buffered: res.writableLength }, 'slow SSE reader disconnected: outbound buffer over the cap');
      res.destroy();
      return false;
    }
    if (idLine) {
      res.cork();
      res.write(idLine);
      res.write(frame);
      process.nextTick(() => res.uncork());
    } else {
      res.write(frame);
    }
    this.meter.sent();
    return true;
  }

  /**
   * Resolves once the unsent bytes are under half the cap (or the stream closed). Replays and backlogs await it
   * between frames, so a long catch-up is paced by the reader instead of tripping the slow-reader cut.
   */
  async drained(): Promise<void> {
    const res = this.res;
    while (this.isOpen && res.writableLength > this.outboundCap / 2) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }

  keepalive(): void {
    if (this.isOpen && this.res.writableLength <= this.outboundCap) this.res.write(KEEPALIVE);
  }

  /** Ends the stream (the client's EventSource reconnects after `retry`). */
  end(): void {
    if (this.closed) return;
    this.res.end();
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.meter.closed();
    const callbacks = this.closeCallbacks;
    this.closeCallbacks = [];
    for (const callback of callbacks) {
      try {
        callback();
      } catch (err) {
        this.log.error({ err }, 'sse cleanup failed');
      }
    }
  }
}

/**
 * Node keeps a response's header block (`_header`) for the response's lifetime, as the string it was concatenated
 * from: ~90 pieces, ~2.8 KB, for the ~25 headers of a stream (security, CORS, rate limit, SSE). Once written it is only
 * tested for presence, so a flat copy of the same text (a third of that) takes its place. Guarded: if Node's response
 * has no such string, nothing is done.
 */
function flattenHeaderBlock(res: ServerResponse): void {
  const internal = res as unknown as { _header?: unknown };
  if (typeof internal._header === 'string') internal._header = Buffer.from(internal._header, 'latin1').toString('latin1');
}

/** The open streams of an app: one keepalive timer for all of them, and shutdown. */
export class SseHub {
  private readonly streams = new Set<SseStream>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly keepaliveMs: number) {}

  add(stream: SseStream): void {
    this.streams.add(stream);
    stream.onClose(() => this.streams.delete(stream));
    this.timer ??= setInterval(() => {
      for (const s of this.streams) s.keepalive();
    }, this.keepaliveMs).unref();
  }

  get size(): number {
    return this.streams.size;
  }

  closeAll(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const stream of [...this.streams]) stream.end();
  }
}
