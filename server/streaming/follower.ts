/**
 * Following one bus channel for one connection without gaps or repeats around a snapshot:
 * `start()` subscribes and holds live events back; the caller sends its snapshot (current state from Postgres, or
 * replayed history) and then calls `release()`, which forwards the held events that come after the snapshot and
 * every later event, each at most once and in order. When the bus reports a gap, live events are held again while the
 * caller's resync sends the current state (a reset), then released after it: a resync is never overtaken.
 */
import { isAfterParsed, parseEventId, type ParsedEventId } from '../bus/event-id.js';
import type { Bus, BusEvent, BusListener, Unsubscribe } from '../bus/types.js';

/** More held events than this while a snapshot loads means the snapshot is stale anyway: resync instead. */
const MAX_HELD = 10_000;

export interface ReleaseOptions {
  /** Forward only events after this id (the snapshot's resume point, or the last replayed id). */
  afterId?: string;
  /** Drop events whose seq is not above this (already included in the snapshot). */
  afterSeq?: number;
  /** Drop held events this returns true for (e.g. notifications the snapshot already delivered). */
  skipHeld?: (event: BusEvent) => boolean;
}

/**
 * Where a follower's events go, as an object: one session can be the sink of all its followers (no closures per
 * follower; there is one follower per idle subscriber). `tag` is the follower's own (e.g. its job id).
 */
export interface FollowerSink {
  /** A live (or released) event of the follower's channel. */
  followed(event: BusEvent, follower: ChannelFollower): void;
  /** As the constructor's `resync`. */
  lost(follower: ChannelFollower): Promise<ReleaseOptions | void> | ReleaseOptions | void;
}

export class ChannelFollower implements BusListener {
  private held: BusEvent[] | null = [];
  private overflowed = false;
  private gapWhileHeld = false;
  /** The position: the id of the last event forwarded (or the snapshot's), parsed. */
  private last: ParsedEventId | null | undefined;
  private afterSeq: number | undefined;
  private unsubscribe: Unsubscribe | undefined;
  private stopped = false;
  private onStopped: (() => void)[] | undefined;
  private readonly sink: FollowerSink;

  constructor(
    private readonly bus: Bus,
    readonly channel: string,
    deliver: ((event: BusEvent) => void) | FollowerSink,
    /**
     * The bus may have missed events: send the current state (marked as a reset) and resolve with where the held
     * live events resume, as for `release`. Live events are held meanwhile, so none overtakes the resync.
     * (Given a sink: its `lost`.)
     */
    resync?: () => Promise<ReleaseOptions | void> | ReleaseOptions | void,
    /** The sink's name for this follower. */
    readonly tag = '',
  ) {
    this.sink = typeof deliver === 'function' ? { followed: deliver, lost: resync ?? (() => {}) } : deliver;
  }

  async start(): Promise<void> {
    // The follower is its own bus listener (`event`, `gap`): no closures per subscriber.
    const unsubscribe = await this.bus.subscribe(this.channel, this);
    if (this.stopped) unsubscribe();
    else this.unsubscribe = unsubscribe;
  }

  /** BusListener: a live event of the channel. */
  event(event: BusEvent): void {
    this.receive(event);
  }

  /** BusListener: the bus may have missed events. */
  gap(): void {
    if (this.held) this.gapWhileHeld = true;
    else void this.runResync();
  }

  release(options: ReleaseOptions = {}): void {
    if (this.stopped) return;
    if (options.afterId !== undefined) this.last = parseEventId(options.afterId);
    if (options.afterSeq !== undefined) this.afterSeq = options.afterSeq;
    if (this.overflowed || this.gapWhileHeld) {
      // The snapshot may predate what the bus missed: take another (the held events wait for it, unless too many).
      if (this.overflowed) this.held = [];
      this.overflowed = this.gapWhileHeld = false;
      void this.runResync();
      return;
    }
    const held = this.held ?? [];
    this.held = null;
    for (const event of held) {
      if (options.skipHeld?.(event)) {
        if (isAfterParsed(event.parsedId, this.last)) this.last = event.parsedId;
        continue;
      }
      this.forward(event);
    }
  }

  /** Moves the resume point forward (after a fresh snapshot was sent). */
  advance(afterId: string | undefined, afterSeq: number | undefined): void {
    const parsed = afterId === undefined ? undefined : parseEventId(afterId);
    if (parsed && isAfterParsed(parsed, this.last)) this.last = parsed;
    if (afterSeq !== undefined) this.afterSeq = afterSeq;
  }

  stop(): void {
    this.stopped = true;
    this.held = null;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const stopped = this.onStopped ?? [];
    this.onStopped = undefined;
    for (const fn of stopped) fn();
  }

  /** Runs `fn` when the follower stops (at once if it already has): ties e.g. an access watch to its lifetime. */
  onStop(fn: () => void): void {
    if (this.stopped) fn();
    else this.onStopped = [...(this.onStopped ?? []), fn];
  }

  /** Holds live events, runs the resync, then releases them after its snapshot. */
  private async runResync(): Promise<void> {
    if (this.stopped) return;
    this.held ??= [];
    let options: ReleaseOptions = {};
    try {
      options = (await this.sink.lost(this)) ?? {};
    } catch {
      // The resync reports its own failures; the held events go on regardless.
    }
    this.release(options);
  }

  private receive(event: BusEvent): void {
    if (this.stopped) return;
    if (this.held) {
      if (this.held.length >= MAX_HELD) this.overflowed = true;
      else this.held.push(event);
      return;
    }
    this.forward(event);
  }

  private forward(event: BusEvent): void {
    if (!isAfterParsed(event.parsedId, this.last)) return;
    this.last = event.parsedId;
    if (this.afterSeq !== undefined && event.seq !== undefined && event.seq <= this.afterSeq) return;
    this.sink.followed(event, this);
  }
}
