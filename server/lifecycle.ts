/**
 * Shutdown, in one place and in order, bounded by SHUTDOWN_TIMEOUT_MS (main.ts's close-with-grace exits the process
 * if it still overruns). Two phases, because Fastify stops its HTTP server in between:
 *
 * 1. `closeConnections` (the websocket plugin's preClose, before the HTTP server stops):
 *    stop taking WebSocket upgrades, and turn away (1012) a socket whose upgrade was already under way; stop the
 *    background work that publishes (notification retention, job publish retries, demo simulations); end every SSE
 *    stream and close every JSON WebSocket with 1012 (clients reconnect, to another instance); close every
 *    collaboration socket with 1012 and flush its appends and documents to the store; close what is left.
 * 2. `closeResources` (the app's onClose, once in-flight requests are done):
 *    write what features hold for the store (`onFlush`: the coalesced job progress), close the bus, the connection
 *    counter and the Redis client, then the store.
 *
 * Each step gets what is left of the deadline, so a store or Redis that is down cannot hold the process.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { CLOSE_CODES } from '../shared/errors.js';
import type { Bus } from './bus/types.js';
import type { CollabService } from './collab/index.js';
import type { ConnectionCounter } from './limits/index.js';
import type { Db } from './store/db.js';
import type { SseHub } from './streaming/sse-stream.js';

/** Time kept back from SHUTDOWN_TIMEOUT_MS by the collaboration flush, for phase 2. */
const RESOURCES_MS = 1000;
/** Phase 2 ends this long before SHUTDOWN_TIMEOUT_MS, when close-with-grace gives up. */
const MARGIN_MS = 250;
/** The store gets at least this long to close (PGlite writes its files), even past the deadline. */
const MIN_STORE_CLOSE_MS = 1000;

export interface LifecycleParts {
  shutdownTimeoutMs: number;
  log: FastifyBaseLogger;
  collab: CollabService;
  sse: SseHub;
  bus: Bus;
  connections: ConnectionCounter;
  redis: Redis | undefined;
  db: Db;
}

export class Lifecycle {
  private startedAt: number | undefined;
  private readonly stoppers: { name: string; stop: () => void }[] = [];
  private readonly flushers: { name: string; flush: () => Promise<void> }[] = [];

  constructor(private readonly parts: LifecycleParts) {}

  /** Whether shutdown has begun. */
  get closing(): boolean {
    return this.startedAt !== undefined;
  }

  /** Background work (timers, retries, simulations) to stop as shutdown begins. */
  onStop(name: string, stop: () => void): void {
    this.stoppers.push({ name, stop });
  }

  /** Writes to the store that must happen before it closes (phase 2, first: requests are done by then). */
  onFlush(name: string, flush: () => Promise<void>): void {
    this.flushers.push({ name, flush });
  }

  /** Phase 1: connections. `app` is the root instance (its HTTP server and WebSocket server). */
  async closeConnections(app: FastifyInstance): Promise<void> {
    const { collab, sse, log } = this.parts;
    this.begin();
    app.server.removeAllListeners('upgrade');
    collab.closing = true;
    for (const { name, stop } of this.stoppers) {
      try {
        stop();
      } catch (err) {
        log.warn({ err, name }, 'background work failed to stop');
      }
    }
    sse.closeAll();
    const shutdown = CLOSE_CODES.SERVER_SHUTDOWN;
    for (const client of app.websocketServer.clients) {
      if (!collab.sockets.has(client)) client.close(shutdown.code, shutdown.reason);
    }
    const result = await collab.shutdown(this.deadline(RESOURCES_MS));
    if (result.documentsLeft > 0 || result.appendsLeft > 0) {
      log.error(result, 'shutdown deadline reached: some documents or appends could not be stored');
    }
    for (const client of app.websocketServer.clients) client.close(shutdown.code, shutdown.reason);
    app.websocketServer.close();
  }

  /** Phase 2: pending writes, the bus and Redis, then the store. */
  async closeResources(): Promise<void> {
    const { bus, connections, redis, db } = this.parts;
    this.begin();
    for (const { name, flush } of this.flushers) await this.bounded(name, flush(), this.left());
    await this.bounded('bus and redis', Promise.allSettled([bus.close(), connections.close().then(() => redis?.quit())]), this.left());
    await this.bounded('store', db.close(), Math.max(this.left(), MIN_STORE_CLOSE_MS));
  }

  private begin(): void {
    this.startedAt ??= Date.now();
  }

  /** The deadline (ms since the epoch) that keeps `reserveMs` of the timeout for later steps. */
  private deadline(reserveMs: number): number {
    return (this.startedAt ?? Date.now()) + Math.max(100, this.parts.shutdownTimeoutMs - reserveMs);
  }

  private left(): number {
    return Math.max(0, this.deadline(MARGIN_MS) - Date.now());
  }

  private async bounded(step: string, work: Promise<unknown>, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    try {
      const outcome = await Promise.race([work.then(() => 'done' as const), timedOut]);
      if (outcome === 'timeout') this.parts.log.error({ step, ms }, 'shutdown step did not finish in time');
    } catch (err) {
      this.parts.log.warn({ err, step }, 'shutdown step failed');
    } finally {
      clearTimeout(timer);
    }
  }
}
