/**
 * Following one bus channel for one connection without gaps or repeats around a snapshot:
 * `start()` subscribes and holds live events back; the caller sends its snapshot (current state from Postgres, or
 * replayed history) and then calls `release()`, which forwards the held events that come after the snapshot and
 * every later event, each at most once and in order.
 */
import { isAfterParsed, parseEventId, type ParsedEventId } from '../bus/event-id.js';
import type { Bus, BusEvent, Unsubscribe } from '../bus/types.js';

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

export class ChannelFollower {
  private held: BusEvent[] | null = [];
  private overflowed = false;
  private gapWhileHeld = false;
  /** The position: the id of the last event forwarded (or the snapshot's), parsed. */
  private last: ParsedEventId | null | undefined;
  private afterSeq: number | undefined;
  private unsubscribe: Unsubscribe | undefined;
  private stopped = false;

  constructor(
    private readonly bus: Bus,
    readonly channel: string,
    private readonly deliver: (event: BusEvent) => void,
    /** The bus may have missed events: resend the current state. */
    private readonly resync: () => void,
  ) {}

  async start(): Promise<void> {
    const unsubscribe = await this.bus.subscribe(this.channel, {
      event: (event) => this.receive(event),
      gap: () => {
        if (this.held) this.gapWhileHeld = true;
        else this.resync();
      },
    });
    if (this.stopped) unsubscribe();
    else this.unsubscribe = unsubscribe;
  }

  release(options: ReleaseOptions = {}): void {
    if (options.afterId !== undefined) this.last = parseEventId(options.afterId);
    if (options.afterSeq !== undefined) this.afterSeq = options.afterSeq;
    const held = this.held ?? [];
    this.held = null;
    if (this.overflowed || this.gapWhileHeld) {
      this.overflowed = this.gapWhileHeld = false;
      this.resync();
      return;
    }
    for (const event of held) {
      if (options.skipHeld?.(event)) {
        if (isAfterParsed(event.parsedId, this.last)) this.last = event.parsedId;
        continue;
      }
      this.forward(event);
    }
  }

  /** Moves the resume point forward (after a resync sent a fresh snapshot). */
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
    this.deliver(event);
  }
}
