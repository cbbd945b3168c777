/**
 * The realtime app (design §6 "Job progress", "Notifications", "Operations"): services built once per app by
 * `createRealtime`, and every route, timer and shutdown step registered by `registerRealtimeRoutes`.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../auth/jwt.js';
import type { Bus } from '../bus/types.js';
import type { CollabService } from '../collab/index.js';
import type { Config } from '../config.js';
import { MemoryConnectionCounter, type ConnectionCounter } from '../limits/index.js';
import type { Metrics } from '../metrics.js';
import { registerJobRoutes } from '../routes/jobs.js';
import { registerMetricsRoute } from '../routes/metrics.js';
import { registerNotificationRoutes } from '../routes/notifications.js';
import { registerRealtimeStreamRoutes } from '../routes/realtime.js';
import { registerStatsRoute } from '../routes/stats.js';
import type { Db } from '../store/db.js';
import { JobStore } from '../store/jobs.js';
import { NotificationStore } from '../store/notifications.js';
import { ChannelPolicy } from './channel-policy.js';
import type { RealtimeContext } from './context.js';
import { JobsService } from './jobs.js';
import { NotificationsService } from './notifications.js';
import { SseHub } from './sse.js';

export type { RealtimeContext } from './context.js';
export { ChannelPolicy } from './channel-policy.js';

export interface RealtimeService {
  jobs: JobsService;
  notifications: NotificationsService;
  /** Channel authorization; the presence feature installs its check here (`policy.setPresenceAuthorizer`). */
  policy: ChannelPolicy;
  context: RealtimeContext;
}

export interface RealtimeDeps {
  config: Config;
  db: Db;
  verifier: TokenVerifier;
  bus: Bus;
  metrics: Metrics;
  log: FastifyBaseLogger;
  /** Per-user connection counter (server/limits); in-process when omitted. */
  connections?: ConnectionCounter;
}

export function createRealtime(deps: RealtimeDeps): RealtimeService {
  const { config, bus, metrics, log } = deps;
  const jobs = new JobsService(new JobStore(deps.db), bus, metrics, log);
  const notifications = new NotificationsService(new NotificationStore(deps.db), bus, metrics, log, config.notificationRetentionHours);
  const policy = new ChannelPolicy();
  const context: RealtimeContext = {
    config,
    verifier: deps.verifier,
    bus,
    jobs,
    notifications,
    policy,
    limiter: deps.connections ?? new MemoryConnectionCounter(config.limits.maxConnectionsPerUser),
    metrics,
    sse: new SseHub(config.sseKeepaliveMs),
    socketLimits: {
      maxFrameBytes: config.limits.wsMaxFrameBytes,
      outboundCap: config.limits.outboundBufferBytes,
      rateBurst: config.limits.rateBurst,
      ratePerSec: config.limits.ratePerSec,
    },
    log,
  };
  return { jobs, notifications, policy, context };
}

/**
 * Routes (REST, WebSocket, SSE, stats, metrics), the retention timer, and shutdown: SSE streams end in preClose
 * (WebSockets are closed with 1012 by the websocket plugin's preClose; the bus is closed by app.ts's onClose).
 */
export function registerRealtimeRoutes(app: FastifyInstance, realtime: RealtimeService, collab: CollabService): void {
  const ctx = realtime.context;
  registerJobRoutes(app, ctx);
  registerNotificationRoutes(app, ctx);
  registerRealtimeStreamRoutes(app, ctx);
  registerStatsRoute(app, ctx, collab);
  registerMetricsRoute(app, ctx);

  realtime.notifications.startRetention();
  app.addHook('preClose', async () => {
    realtime.notifications.stopRetention();
    realtime.jobs.stop();
    ctx.sse.closeAll();
  });
}
