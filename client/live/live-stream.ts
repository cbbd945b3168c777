/**
 * A server → client stream that stays up: WebSocket first, SSE when a WebSocket cannot be opened (a proxy that
 * refuses upgrades, a blocked port), reconnecting with backoff for as long as it is wanted.
 *
 * - Transport: in `auto` mode a WebSocket attempt that never opens switches the stream to SSE for good (SSE carries
 *   the same messages; it is not switched back). `websocket` and `sse` pin one transport.
 * - Resume: every message's event id (SSE `id`; a job message's `event_id` over WebSocket) is remembered and sent on
 *   reconnect (`Last-Event-ID`, `?last_event_id=`), so nothing is missed or repeated (the server sends `reset` when
 *   the gap is older than its history). Streams without ids (notifications over WebSocket) start from the current
 *   state; the consumer drops what it has already seen.
 * - Tokens: a fresh one on every attempt; tokens refused at connect three times in a row stop the stream with
 *   AUTHENTICATION_FAILED. Permission, not-found and malformed-request refusals stop it at once.
 */
import { Backoff, sleep } from '../backoff.js';
import type { ClientContext } from '../context.js';
import { DeckhandError } from '../errors.js';
import { resolveToken } from '../token.js';
import type { ConnectionHandlers, ConnectionOutcome } from './outcome.js';
import { runSse } from './sse-connection.js';
import { runWebSocket } from './websocket-connection.js';

export type TransportMode = 'auto' | 'websocket' | 'sse';
export type TransportKind = 'websocket' | 'sse';

export interface LiveStatus {
  state: 'connecting' | 'open' | 'reconnecting' | 'stopped';
  transport: TransportKind;
}

export interface LiveStreamOptions {
  wsPath: string;
  ssePath: string;
  mode: TransportMode;
  onMessage(message: Record<string, unknown>): void;
  /** `fatal`: the stream stopped because of it. */
  onError(error: DeckhandError, fatal: boolean): void;
  onStatus?(status: LiveStatus): void;
  /** A connection opened (the first or a reconnection); `send` is set on WebSocket connections. */
  onOpen?(send: ((message: object) => boolean) | undefined): void;
}

const MAX_AUTH_FAILURES = 3;

export class LiveStream {
  private readonly abort = new AbortController();
  private transport: TransportKind;
  private lastEventId: string | undefined;
  private sender: ((message: object) => boolean) | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly options: LiveStreamOptions,
  ) {
    this.transport = options.mode === 'sse' ? 'sse' : 'websocket';
  }

  get currentTransport(): TransportKind {
    return this.transport;
  }

  start(): void {
    void this.run();
  }

  /** Sends a client message on the open WebSocket; false when there is none (connecting, or SSE). */
  send(message: object): boolean {
    return this.sender?.(message) ?? false;
  }

  stop(): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    this.status('stopped');
  }

  private status(state: LiveStatus['state']): void {
    this.options.onStatus?.({ state, transport: this.transport });
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    const backoff = new Backoff(this.ctx.backoff);
    let authFailures = 0;
    const handlers: ConnectionHandlers = {
      opened: (send) => {
        this.sender = send;
        this.status('open');
        this.options.onOpen?.(send);
      },
      message: (message, eventId) => {
        if (eventId !== undefined) this.lastEventId = eventId;
        this.options.onMessage(message);
      },
      error: (error) => this.options.onError(error, false),
    };
    this.status('connecting');
    while (!signal.aborted) {
      let token: string;
      try {
        token = await resolveToken(this.ctx.token);
      } catch (err) {
        this.options.onError(new DeckhandError('AUTHENTICATION_FAILED', `could not get a token: ${(err as Error).message}`), false);
        this.status('reconnecting');
        await sleep(backoff.next(), signal);
        continue;
      }
      if (signal.aborted) break;
      const outcome: ConnectionOutcome =
        this.transport === 'websocket'
          ? await runWebSocket(this.ctx, this.options.wsPath, token, handlers, signal, this.lastEventId)
          : await runSse(this.ctx, this.options.ssePath, token, this.lastEventId, handlers, signal);
      this.sender = undefined;
      if (signal.aborted) break;
      if (outcome.fatal) {
        this.options.onError(outcome.fatal, true);
        this.stop();
        return;
      }
      // A token that expired on an open connection is routine; one refused at connect three times in a row is not.
      authFailures = outcome.authFailed && !outcome.opened ? authFailures + 1 : 0;
      if (authFailures >= MAX_AUTH_FAILURES) {
        this.options.onError(new DeckhandError('AUTHENTICATION_FAILED', 'the server refused the token repeatedly'), true);
        this.stop();
        return;
      }
      if (outcome.opened) backoff.reset();
      if (!outcome.opened && !outcome.authFailed && this.transport === 'websocket' && this.options.mode === 'auto') {
        this.transport = 'sse';
        this.status('connecting');
        continue;
      }
      this.status('reconnecting');
      await sleep(backoff.next(), signal);
    }
  }
}
