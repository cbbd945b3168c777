/**
 * The in-process bus (embedded default, one instance): a bounded history per channel in memory and synchronous
 * fan-out to local listeners, and each channel's state (commit). Same guarantees as the Redis bus (./types.ts); the
 * epoch is per process, so after a restart every old id resumes as a reset and every state is gone. Idle channels (no listener, nothing published for historyTtlMs) are
 * forgotten by a periodic sweep, so memory follows the live channels, not every job that ever ran.
 */
import { compareIds, formatEventId, newEpoch, parseEventId, parseStreamId, StreamIdClock, ZERO_STREAM_ID } from './event-id.js';
import {
  BusEvent,
  DEFAULT_HISTORY_LENGTH,
  DEFAULT_HISTORY_TTL_MS,
  type Bus,
  type BusListener,
  type BusOptions,
  type ChannelSnapshot,
  type ChannelState,
  type CommitResult,
  type HistoryResult,
  type StateChange,
  type Unsubscribe,
} from './types.js';

interface Channel {
  /** Oldest first; at most historyLength (+ a small slack trimmed in batches). */
  events: BusEvent[];
  /** Stream id at or below which events may be gone (the newest trimmed one, or the bus floor at creation). */
  floor: string;
  listeners: Set<BusListener>;
  /** The channel's state (commit), if any. */
  record: ChannelState | undefined;
  lastPublishAt: number;
}

const TRIM_SLACK = 64;

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  readonly epoch = newEpoch();
  private readonly clock = new StreamIdClock();
  private readonly channels = new Map<string, Channel>();
  private readonly historyLength: number;
  private readonly historyTtlMs: number;
  private readonly onListenerError: (err: unknown, channel: string) => void;
  /** Every id issued before the last eviction is at or below this: new channel states start from it. */
  private evictionFloor = ZERO_STREAM_ID;
  private readonly queue: BusEvent[] = [];
  private delivering = false;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(options: BusOptions = {}) {
    this.historyLength = options.historyLength ?? DEFAULT_HISTORY_LENGTH;
    this.historyTtlMs = options.historyTtlMs ?? DEFAULT_HISTORY_TTL_MS;
    this.onListenerError = options.onListenerError ?? (() => {});
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, this.historyTtlMs)).unref();
  }

  async publish(channel: string, payload: string): Promise<BusEvent> {
    if (this.closed) throw new Error('bus closed');
    return this.append(this.channelOf(channel), channel, payload, undefined);
  }

  async commit(channel: string, change: StateChange): Promise<CommitResult> {
    if (this.closed) throw new Error('bus closed');
    const state = this.channelOf(channel);
    const current = state.record;
    if ((current?.version ?? null) !== change.expect) return { ok: false, current: current ? { ...current } : null };
    state.record = { ...change.state };
    state.lastPublishAt = Date.now();
    if (change.payload === undefined) return { ok: true, event: null };
    return { ok: true, event: this.append(state, channel, change.payload, change.state.version) };
  }

  async state(channel: string): Promise<ChannelSnapshot> {
    const record = this.channels.get(channel)?.record;
    return { head: await this.head(channel), state: record ? { ...record } : null };
  }

  private append(state: Channel, channel: string, payload: string, seq: number | undefined): BusEvent {
    const event = new BusEvent(channel, formatEventId(this.epoch, this.clock.next()), payload, seq);
    state.events.push(event);
    state.lastPublishAt = Date.now();
    if (state.events.length > this.historyLength + TRIM_SLACK) {
      const dropped = state.events.splice(0, state.events.length - this.historyLength);
      state.floor = streamIdOf(dropped[dropped.length - 1]!.id);
    }
    this.enqueue(event);
    return event;
  }

  async subscribe(channel: string, listener: BusListener): Promise<Unsubscribe> {
    if (this.closed) throw new Error('bus closed');
    const state = this.channelOf(channel);
    state.listeners.add(listener);
    return () => {
      state.listeners.delete(listener);
      // A channel that never kept an event is forgotten with its last listener (its floor is the bus floor anyway).
      if (state.listeners.size === 0 && state.events.length === 0 && state.record === undefined) {
        if (this.channels.get(channel) === state) this.channels.delete(channel);
      }
    };
  }

  async history(channel: string, afterId: string): Promise<HistoryResult> {
    const state = this.channels.get(channel);
    const floor = state?.floor ?? this.evictionFloor;
    const last = state?.events[state.events.length - 1];
    const head = last ? last.id : formatEventId(this.epoch, floor);
    const after = parseEventId(afterId);
    const floorId = parseStreamId(floor)!;
    const headId = parseEventId(head)!;
    if (!after || after.epoch !== this.epoch || compareIds(after, floorId) < 0 || compareIds(after, headId) > 0) {
      return { complete: false, events: [], head };
    }
    const events = state ? state.events.filter((e) => compareIds(parseEventId(e.id)!, after) > 0) : [];
    return { complete: true, events, head };
  }

  async head(channel: string): Promise<string> {
    const state = this.channels.get(channel);
    const last = state?.events[state.events.length - 1];
    return last ? last.id : formatEventId(this.epoch, state?.floor ?? this.evictionFloor);
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('bus closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.channels.clear();
  }

  private channelOf(channel: string): Channel {
    let state = this.channels.get(channel);
    if (!state) {
      state = { events: [], floor: this.evictionFloor, listeners: new Set(), record: undefined, lastPublishAt: Date.now() };
      this.channels.set(channel, state);
    }
    return state;
  }

  /** Delivers in publish order even when a listener publishes while being called. */
  private enqueue(event: BusEvent): void {
    this.queue.push(event);
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const listeners = this.channels.get(next.channel)?.listeners;
        if (!listeners) continue;
        for (const listener of listeners) {
          try {
            listener.event(next);
          } catch (err) {
            this.onListenerError(err, next.channel);
          }
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  /** Forgets the history of idle channels, and idle channels without listeners. */
  private sweep(): void {
    const cutoff = Date.now() - this.historyTtlMs;
    let evicted = false;
    for (const [channel, state] of this.channels) {
      if (state.lastPublishAt >= cutoff) continue;
      if (state.events.length > 0) {
        state.floor = streamIdOf(state.events[state.events.length - 1]!.id);
        state.events = [];
        evicted = true;
      }
      state.record = undefined;
      if (state.listeners.size === 0) this.channels.delete(channel);
    }
    if (evicted) this.evictionFloor = this.clock.next();
  }
}

function streamIdOf(eventId: string): string {
  return eventId.slice(eventId.indexOf('.') + 1);
}
