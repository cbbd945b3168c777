/**
 * Publishes that failed because the bus (Redis) was unreachable are not dropped: Postgres already holds the state, and
 * the publisher publishes again once Redis is back, so a subscriber never stays silently behind (docs/bus.md).
 *
 * - `MessageRetry` (notifications, chat events): the failed messages themselves, retried in order; while some wait, later
 *   messages queue behind them (the channel order is kept). Subscribers deliver each notification once (by id).
 * - Jobs keep no queue: JobsService remembers which jobs have an unpublished state and publishes their *current*
 *   state as a `reset` (see jobs.ts), since intermediate states cannot be replayed in order any more.
 *
 * A retry runs every RETRY_MS while something waits. Both are per instance: if the instance dies first, subscribers
 * catch up on their next (re)connection or resync.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bus } from '../bus/types.js';
import type { Metrics } from '../metrics.js';

export const RETRY_MS = 500;
/** Messages kept for a retry at most; past that the oldest are dropped (and logged). */
const MAX_QUEUED = 10_000;

/**
 * The retry rounds of both publishers: `schedule()` runs `round` after RETRY_MS, one round at a time, and again
 * after each round while `pending()` says something still waits; `stop()` (shutdown) ends it.
 */
export class RetryLoop {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stoppedFlag = false;

  constructor(
    private readonly round: () => Promise<void>,
    private readonly pending: () => boolean,
  ) {}

  /** A round is in progress. */
  get busy(): boolean {
    return this.running;
  }

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  schedule(): void {
    if (this.timer || this.stoppedFlag) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, RETRY_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stoppedFlag = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.round();
    } finally {
      this.running = false;
      if (this.pending()) this.schedule();
    }
  }
}

export class MessageRetry {
  private readonly queue: { channel: string; payload: string }[] = [];
  private readonly loop = new RetryLoop(
    () => this.flush(),
    () => this.queue.length > 0,
  );
  private dropped = 0;

  constructor(
    private readonly bus: Bus,
    private readonly metrics: Metrics,
    private readonly log: FastifyBaseLogger,
    /** What is published, for the log lines (`notification`, `chat event`). */
    private readonly what = 'notification',
  ) {}

  get size(): number {
    return this.queue.length;
  }

  /** Publishes `payload` now, or after the messages already waiting; a failure queues it for a retry. */
  async publish(channel: string, payload: string): Promise<void> {
    if (this.queue.length === 0 && !this.loop.busy) {
      try {
        await this.bus.publish(channel, payload);
        this.metrics.busPublish('ok');
        return;
      } catch (err) {
        this.metrics.busPublish('failed');
        this.log.warn({ err, channel }, `${this.what} not published yet: retrying while the bus is down`);
      }
    }
    this.enqueue(channel, payload);
  }

  stop(): void {
    this.loop.stop();
  }

  private enqueue(channel: string, payload: string): void {
    this.queue.push({ channel, payload });
    if (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      if (this.dropped++ % 1000 === 0)
        this.log.error({ dropped: this.dropped, what: this.what }, 'too many unpublished messages: the oldest are dropped');
    }
    this.loop.schedule();
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0 && !this.loop.stopped) {
      const next = this.queue[0]!;
      try {
        await this.bus.publish(next.channel, next.payload);
      } catch {
        break; // still down: the next round retries
      }
      this.queue.shift();
      this.metrics.busPublish('ok');
    }
    if (this.queue.length === 0) this.log.info(`every ${this.what} held while the bus was down is published`);
  }
}
