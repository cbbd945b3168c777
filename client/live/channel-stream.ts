/**
 * One live connection to the notifications endpoints that follows a changing set of channels (`chat.{id}`,
 * `status.{user_id}`, …) for several consumers, and carries their client messages (`chat_typing`, `chat_read`):
 * - WebSocket: every channel is subscribed (`subscribe_channel`) on each (re)connection, and as it is added; a channel
 *   nobody follows any more is unsubscribed;
 * - SSE (the fallback): the channels travel in `?channels=`, so a change of the set reconnects the stream (on SSE
 *   directly, once a WebSocket could not be opened);
 * - every (re)connection is reported to the consumers (`opened`): what they show may have missed events meanwhile,
 *   so they reload it; a `reset` of their channel means the same. On WebSocket a channel's consumers are told once the
 *   server confirmed its subscription (`subscribed`): a reload before that could miss an event sent in between, which
 *   would then be neither in the reload nor live. On SSE the channels are subscribed before the stream opens.
 * Server messages go to every consumer (each picks its own); an error naming a channel (`details.channel`) goes to
 * that channel's consumers, any other error to all of them. The connection runs while a channel is followed.
 */
import type { ClientContext } from '../context.js';
import type { DeckhandError } from '../errors.js';
import { LiveStream, type LiveStatus, type TransportMode } from './live-stream.js';

export interface ChannelConsumer {
  message(message: Record<string, unknown>): void;
  /** A connection opened (the first one, or after a drop): reload what may have been missed. */
  opened(): void;
  error(error: DeckhandError, fatal: boolean): void;
  status?(status: LiveStatus): void;
}

const WS_PATH = '/api/v1/realtime/notifications';
const SSE_PATH = '/api/v1/realtime/sse/notifications';

export class ChannelStream {
  private readonly consumers = new Map<string, Set<ChannelConsumer>>();
  private stream: LiveStream | undefined;
  /** A connection of `stream` is open now. */
  private isOpen = false;
  /** In `auto` mode, a WebSocket could not be opened: later streams go straight to SSE. */
  private onSse = false;
  /** The open connection is a WebSocket (channels are live once `subscribed`), not SSE (live on open). */
  private openOnWebSocket = false;
  /** Channels the server confirmed on the open WebSocket. */
  private readonly confirmed = new Set<string>();

  constructor(
    private readonly ctx: ClientContext,
    private readonly mode: TransportMode = 'auto',
  ) {}

  /** Follows `channel` for `consumer`; returns the function that stops. */
  follow(channel: string, consumer: ChannelConsumer): () => void {
    let set = this.consumers.get(channel);
    const added = !set;
    if (!set) {
      set = new Set();
      this.consumers.set(channel, set);
    }
    set.add(consumer);
    let following = true;
    if (!this.stream) this.open();
    else if (added) this.channelsChanged({ type: 'subscribe_channel', channel });
    // Joining a channel that is live already: this consumer's start is now (else it is told with the others).
    if (this.isOpen && (!this.openOnWebSocket || this.confirmed.has(channel))) queueMicrotask(() => following && consumer.opened());
    return () => {
      if (!following) return;
      following = false;
      set.delete(consumer);
      if (set.size > 0) return;
      this.consumers.delete(channel);
      this.confirmed.delete(channel);
      if (this.consumers.size === 0) this.close();
      else this.channelsChanged({ type: 'unsubscribe_channel', channel });
    };
  }

  /** Sends a client message on the open WebSocket; false when there is none (connecting, or SSE). */
  send(message: object): boolean {
    return this.stream?.send(message) ?? false;
  }

  close(): void {
    this.stream?.stop();
    this.stream = undefined;
    this.isOpen = false;
    this.consumers.clear();
    this.confirmed.clear();
  }

  private open(): void {
    const channels = [...this.consumers.keys()];
    const stream = new LiveStream(this.ctx, {
      wsPath: WS_PATH,
      ssePath: channels.length ? `${SSE_PATH}?channels=${channels.map(encodeURIComponent).join(',')}` : SSE_PATH,
      mode: this.onSse ? 'sse' : this.mode,
      onOpen: (send) => {
        this.isOpen = true;
        this.openOnWebSocket = send !== undefined;
        this.confirmed.clear();
        if (send) for (const channel of this.consumers.keys()) send({ type: 'subscribe_channel', channel });
        else for (const consumer of this.all()) consumer.opened();
      },
      onMessage: (message) => {
        if (this.stream === stream) this.track(message);
        for (const consumer of this.all()) consumer.message(message);
      },
      onError: (error, fatal) => {
        if (fatal && this.stream === stream) this.stream = undefined;
        const channel = (error.details as { channel?: unknown } | undefined)?.channel;
        const targets = typeof channel === 'string' ? [...(this.consumers.get(channel) ?? [])] : this.all();
        for (const consumer of targets) consumer.error(error, fatal);
      },
      onStatus: (status) => {
        if (this.stream === stream && status.state !== 'open') {
          this.isOpen = false;
          this.confirmed.clear();
        }
        if (status.transport === 'sse') this.onSse = true;
        for (const consumer of this.all()) consumer.status?.(status);
      },
    });
    this.stream = stream;
    stream.start();
  }

  /** Follows the server's confirmations: a channel's consumers start once it is `subscribed` on this connection. */
  private track(message: Record<string, unknown>): void {
    const channel = message.channel;
    if (!this.openOnWebSocket || typeof channel !== 'string') return;
    if (message.type === 'unsubscribed') this.confirmed.delete(channel);
    if (message.type !== 'subscribed' || this.confirmed.has(channel)) return;
    this.confirmed.add(channel);
    for (const consumer of this.consumers.get(channel) ?? []) consumer.opened();
  }

  /** The set of channels changed: tell the open WebSocket, or reconnect an SSE stream with the new set. */
  private channelsChanged(request: { type: 'subscribe_channel' | 'unsubscribe_channel'; channel: string }): void {
    if (this.stream?.currentTransport === 'websocket') {
      // Not open yet: the subscriptions are sent when it opens.
      this.stream.send(request);
      return;
    }
    this.stream?.stop();
    this.isOpen = false;
    this.open();
  }

  private all(): ChannelConsumer[] {
    const unique = new Set<ChannelConsumer>();
    for (const set of this.consumers.values()) for (const consumer of set) unique.add(consumer);
    return [...unique];
  }
}
