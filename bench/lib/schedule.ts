/**
 * Open-loop load: events fire on a fixed schedule (start + i / rate), never waiting for a delivery or a response.
 * When the timer wakes late, every event that is due fires at once (catch-up), and the lateness is recorded so a
 * lagging generator is visible.
 */
import { Latency } from './stats.js';

export interface OpenLoop {
  /** Events fired so far. */
  readonly fired: number;
  /** Lateness of each event against its schedule (ms). */
  readonly lag: Latency;
  stop(): void;
}

export function openLoop(ratePerSec: number, fire: (i: number) => void): OpenLoop {
  const interval = 1000 / ratePerSec;
  const start = performance.now();
  const lag = new Latency();
  let i = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (stopped) return;
    const now = performance.now();
    while (start + i * interval <= now) {
      lag.recordMs(now - (start + i * interval));
      fire(i++);
      if (stopped) return;
    }
    timer = setTimeout(tick, Math.max(0, start + i * interval - performance.now()));
  };
  tick();
  return {
    get fired() {
      return i;
    },
    lag,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Waits for `predicate`, polling, up to `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A promise with its settle functions, for a client's "ready" or "synced"; a rejection nobody awaits is not unhandled. */
export function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((a, b) => {
    resolve = a;
    reject = b;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}
