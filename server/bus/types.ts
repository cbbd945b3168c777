/**
 * The bus: how events reach every subscriber on every instance. One small interface, two implementations:
 * in-process (./memory.ts, the embedded default when REDIS_URL is unset) and Redis (./redis.ts).
 *
 * Guarantees (both implementations):
 * - Per channel, events are delivered to every local listener in publish order, each at most once, with ids that
 *   grow (./event-id.ts). There is no order between different channels.
 * - History: the last `historyLength` events of each channel (default 1000; Redis trims approximately, so at least
 *   that many) are kept for `historyTtlMs` after the channel's last publish (default 24 h). `history(channel, afterId)`
 *   returns exactly the events after `afterId`, or `complete: false` when some of them are gone (trimmed, expired,
 *   or from another epoch): the caller then resyncs from its source of truth (Postgres) instead of replaying.
 * - State: a channel may keep one versioned value next to its history (a job's latest state). `commit` replaces it
 *   only if its version is still the one the change was based on (compare-and-set, atomic across instances), and
 *   publishes the change's event in the same step (its `seq` is the new version), so the state and the history never
 *   disagree: an event a follower sees is never older than a state it read. `state(channel)` reads the head and the
 *   state together. The state is kept as long as the history (`historyTtlMs` after the last commit).
 * - `subscribe` resolves once the subscription is live: every event published after that reaches the listener.
 *
 * Redis specifics (./redis.ts): fan-out is Redis pub/sub (at most once), history is a capped Redis Stream per channel;
 * publishes and commits issued in one event-loop turn go to Redis as one Lua script call (XADD + PUBLISH for each, in
 * order), so the stream order is the delivery order on every instance. When the
 * subscriber connection drops and comes back, each channel is refilled from its stream (nothing lost, nothing
 * repeated); when Redis itself lost the streams (a restart without persistence: a new epoch), listeners get `gap()`
 * and resync, and SSE resumes from ids of the old epoch get a `reset`.
 * Payloads are opaque strings (JSON text serialized once by the publisher), delivered as they are.
 */
import { parseEventId, type ParsedEventId } from './event-id.js';

export interface BusListener {
  /** An event of the channel; called synchronously, in order. Must not throw (errors are logged and swallowed). */
  event(event: BusEvent): void;
  /** Events may have been missed (Redis lost its history): resync from the source of truth. */
  gap?(): void;
}

/** A channel's state: a value its publisher keeps with the history (JSON text, opaque to the bus) and its version. */
export interface ChannelState {
  version: number;
  value: string;
}

export interface StateChange {
  /** The version the change is based on: the current state's, or null when the channel must have none yet. */
  expect: number | null;
  /** The new state (its version greater than `expect`). */
  state: ChannelState;
  /** An event published with the change, in the same atomic step; its `seq` is the new version. */
  payload?: string;
}

/** A commit either happened (with its event, when it had a payload) or found another state (or none) in place. */
export type CommitResult = { ok: true; event: BusEvent | null } | { ok: false; current: ChannelState | null };

export interface ChannelSnapshot {
  /** The channel's head (as `head()`), read in the same step as the state. */
  head: string;
  state: ChannelState | null;
}

export interface HistoryResult {
  /** False when some events after `afterId` are no longer in history (or `afterId` is unknown): resync instead. */
  complete: boolean;
  /** The events after `afterId`, oldest first (empty when incomplete). */
  events: BusEvent[];
  /** The id of the channel's newest event (or the channel's zero id): a resume point for a fresh snapshot. */
  head: string;
}

export type Unsubscribe = () => void;

export interface Bus {
  readonly kind: 'memory' | 'redis';
  /** Publishes a payload; resolves with the event. */
  publish(channel: string, payload: string): Promise<BusEvent>;
  /** Replaces the channel's state if it is still at `change.expect`, publishing `change.payload` with it. */
  commit(channel: string, change: StateChange): Promise<CommitResult>;
  /** The channel's head and state, read together. */
  state(channel: string): Promise<ChannelSnapshot>;
  /** Adds a listener; resolves once live. The returned function removes it (idempotent). */
  subscribe(channel: string, listener: BusListener): Promise<Unsubscribe>;
  /** The events after `afterId` (an id this bus issued, e.g. an SSE Last-Event-ID), and the channel's head id. */
  history(channel: string, afterId: string): Promise<HistoryResult>;
  /** The id of the newest event of the channel (the zero id of the current epoch when there is none). */
  head(channel: string): Promise<string>;
  /** Resolves when the bus can publish and deliver (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface BusOptions {
  /** Events kept per channel (default 1000). */
  historyLength?: number;
  /** How long a channel's history is kept after its last publish (default 24 h). */
  historyTtlMs?: number;
  /** Listener failures (a listener must not throw; this is a last resort). */
  onListenerError?: (err: unknown, channel: string) => void;
}

export const DEFAULT_HISTORY_LENGTH = 1000;
export const DEFAULT_HISTORY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * One published event as every local listener sees it: the same object for all of them, so encodings derived from
 * it (a WebSocket frame, an SSE frame) are computed once per instance and shared (`memo`).
 */
export class BusEvent {
  private parsed: unknown;
  private isParsed = false;
  private position: ParsedEventId | null | undefined;
  private cache: Map<string, unknown> | undefined;

  constructor(
    readonly channel: string,
    readonly id: string,
    /** JSON text, exactly as published. */
    readonly payload: string,
    readonly seq: number | undefined,
  ) {}

  /** The id parsed once (every subscriber compares it with its position). */
  get parsedId(): ParsedEventId | null {
    if (this.position === undefined) this.position = parseEventId(this.id);
    return this.position;
  }

  /** The payload parsed once (undefined when it is not JSON). */
  json(): unknown {
    if (!this.isParsed) {
      this.isParsed = true;
      try {
        this.parsed = JSON.parse(this.payload);
      } catch {
        this.parsed = undefined;
      }
    }
    return this.parsed;
  }

  /** A value derived from this event, computed on first use and shared by every listener. */
  memo<T>(key: string, build: (event: BusEvent) => T): T {
    this.cache ??= new Map();
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const value = build(this);
    this.cache.set(key, value);
    return value;
  }
}
