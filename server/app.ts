/**
 * The composition root: `build(config)` wires store, auth, collaboration and HTTP routes into a Fastify app.
 * It does not listen and installs no signal handlers (main.ts does both), so tests build as many apps as they need.
 */
import { roleFor } from './access/policy.js';
import { chatPlugin, createChat, type Chat } from './chat/index.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Redis } from 'ioredis';
import { resolveDevSecret } from './auth/dev-secret.js';
import { createTokenVerifier, type Principal, type TokenVerifier } from './auth/jwt.js';
import { redactTokenInUrl } from './auth/request-token.js';
import { createBus, type Bus } from './bus/index.js';
import { createCollab, type CollabService } from './collab/index.js';
import { MemoryLockStore } from './collab/locks/memory-lock-store.js';
import { watchMembership } from './collab/membership-sync.js';
import { RedisLockStore } from './collab/locks/redis-lock-store.js';
import { MemoryPresenceStore, RedisPresenceStore } from './collab/presence/presence-store.js';
import { registerCollabRoute } from './collab/route.js';
import type { Config } from './config.js';
import { registerDemo } from './demo/index.js';
import { AwarenessRelay, DocumentBridges, DocumentService, registerDocumentRoutes, SlideOrderMigration } from './documents/index.js';
import { registerHttpPlugins } from './http/plugins.js';
import { createConnectionCounter, HttpRateSync, type ConnectionCounter } from './limits/index.js';
import { Metrics } from './metrics.js';
import { createJobsService, jobsPlugin, type JobsService } from './jobs/index.js';
import { ChannelPolicy, createNotificationsService, notificationsPlugin, SocketMessages, type NotificationsService } from './notifications/index.js';
import { Lifecycle } from './lifecycle.js';
import { CommentMentions, startAutoNotifications } from './auto-notifications/index.js';
import { MembershipAnnouncer, PresentationDeletion, registerPresentationDashboardRoutes } from './presentations/index.js';
import { EditCounter } from './stats/edit-counter.js';
import { createRedisClient } from './redis.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerLockRoutes } from './routes/locks.js';
import { registerPresenceRoutes } from './routes/presence.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerPresentationRoutes } from './routes/presentations.js';
import { registerStatsRoute } from './routes/stats.js';
import { jobChannel } from '../shared/channels.js';
import type { Db } from './store/db.js';
import { openStore } from './store/index.js';
import { PresentationStore } from './store/presentations.js';
import { createStreamingContext, type StreamingContext } from './streaming/context.js';
import { DocumentStore } from './store/documents.js';
import { activityPlugin, createActivityLog, type ActivityLog } from './activity/index.js';
import { AutoVersions, VersionService, VersionStore, versionsPlugin } from './versions/index.js';
import { createStatusService, statusPlugin, UserConnections, type StatusService } from './status/index.js';

export interface Services {
  config: Config;
  db: Db;
  verifier: TokenVerifier;
  presentations: PresentationStore;
  collab: CollabService;
  /** The document as JSON: operations, the JSON collaboration socket (server/documents). */
  documents: DocumentService;
  /** Events between instances (in-process, or Redis when REDIS_URL is set). */
  bus: Bus;
  /** A general-purpose Redis client (rate limits, readiness), when REDIS_URL is set. */
  redis: Redis | undefined;
  /** Prometheus registry of this app (GET /metrics) and the counters behind GET /realtime/stats. */
  metrics: Metrics;
  /** Job progress (server/jobs). */
  jobs: JobsService;
  /** Notifications (server/notifications). */
  notifications: NotificationsService;
  /** Who may follow which notification channel (presence, chat and status channels included). */
  channels: ChannelPolicy;
  /** Chat per presentation (server/chat). */
  chat: Chat;
  /** User status across instances (server/status). */
  status: StatusService;
  /** What the JSON WebSocket and SSE endpoints share (server/streaming). */
  streaming: StreamingContext;
  /** Connections per user per endpoint kind, across instances when REDIS_URL is set (server/limits). */
  connections: ConnectionCounter;
  /** The HTTP rate limit's counts, shared through Redis in the background (when REDIS_URL is set; server/limits). */
  httpRate: HttpRateSync | undefined;
  /** Shutdown in order (server/lifecycle.ts); features register their background work with `onStop`. */
  lifecycle: Lifecycle;
  /** Versions of presentations: take, list, read, restore (server/versions). */
  versions: VersionService;
  /** What happened to each presentation; features record events here (server/activity). */
  activity: ActivityLog;
  startedAt: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    deckhand: Services;
    /** The /collab route's counters (decorated by server/collab/route.ts), read through Metrics. */
    collabRouteStats?: { slowReaders: number; refusedFrames: number };
  }
}

export interface BuildOptions {
  /** Fastify logger options, or false to silence (tests). Defaults to pino at config.logLevel. */
  logger?: FastifyServerOptions['logger'];
}

export async function build(inputConfig: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const config = resolveDevSecret(inputConfig);
  const app = Fastify({
    logger: options.logger ?? {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
      serializers: {
        req: (req) => ({ method: req.method, url: redactTokenInUrl(req.url), remoteAddress: req.ip }),
      },
    },
    bodyLimit: config.limits.wsMaxFrameBytes,
    // Presentation ids may be 128 characters (find-my-way's default cap is 100).
    routerOptions: { maxParamLength: 300 },
    forceCloseConnections: true,
    return503OnClosing: true,
    // Per-request lines only at debug: at info a busy server logs what matters (errors, lifecycle), not traffic.
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const db = await openStore(config);
  const verifier = createTokenVerifier(config.jwt);
  const presentations = new PresentationStore(db);
  const redis = config.redisUrl ? createRedisClient(config.redisUrl, 'app') : undefined;
  const bus = createBus(config, app.log);
  const lockStore = redis ? new RedisLockStore(redis, config.redisPrefix) : new MemoryLockStore();
  const presenceStore = redis ? new RedisPresenceStore(redis, config.redisPrefix) : new MemoryPresenceStore();
  // Every per-user connection slot (collab, JSON sockets, SSE) is a live connection for the user's status.
  const userConnections = new UserConnections();
  const connections = userConnections.track(
    createConnectionCounter({ maxPerUser: config.limits.maxConnectionsPerUser, redis, prefix: config.redisPrefix, logger: app.log }),
  );
  const activity = createActivityLog(db, app.log, config.activityRetentionDays);
  const autoVersions = new AutoVersions({
    intervalMs: config.versionIntervalMs,
    take: (presentationId, minAgeMs) => versions.createAutomatic(presentationId, minAgeMs),
    logger: app.log,
  });
  // Collaboration observers: new comments' @mentions (automatic notifications), and the edits count (stats).
  const mentions = new CommentMentions(app.log);
  const edits = new EditCounter();
  const slideOrderMigration = new SlideOrderMigration(() => collab.persistence, app.log);
  const awarenessRelay = new AwarenessRelay(bus, () => collab.hocuspocus, app.log);
  const collab = createCollab({
    config,
    db,
    verifier,
    presentations,
    logger: app.log,
    bus,
    lockStore,
    presenceStore,
    connections,
    extensions: [mentions, slideOrderMigration, awarenessRelay],
    changeObservers: [autoVersions, edits],
    activity,
  });
  const documents = new DocumentService({ collab, presentations, logger: app.log, autoCreatePresentations: config.autoCreatePresentations });
  const versions = new VersionService({
    store: new VersionStore(db),
    documents: new DocumentStore(db),
    hocuspocus: collab.hocuspocus,
    append: (name, update) => collab.persistence.appendServerUpdate(name, update),
    locks: (presentationId) => collab.locks.list(presentationId),
    activity,
    logger: app.log,
  });
  const bridges = new DocumentBridges(documents, collab.locks, bus, app.log);
  const metrics = new Metrics({
    documents: () => collab.hocuspocus.getDocumentsCount(),
    connections: () => collab.hocuspocus.getConnectionsCount(),
    locks: () => collab.locks.count,
    slowReaders: () => app.collabRouteStats?.slowReaders ?? 0,
    refusedFrames: () => app.collabRouteStats?.refusedFrames ?? 0,
    refusedClientIdClaims: () => collab.clientOwners.stats.claimsRefused,
  });
  const streaming = createStreamingContext({ config, verifier, bus, metrics, log: app.log, connections });
  const jobs = createJobsService(db, streaming);
  const notifications = createNotificationsService(db, streaming);
  const status = createStatusService({ config, db, presentations, bus, redis, metrics, log: app.log, connections: userConnections });
  const chat = createChat({ config, db, presentations, bus, redis, metrics, log: app.log });
  // Presence and chat channels are followed by whoever may read the presentation, while they may; status channels
  // by whoever may see that user's status.
  const roleOn = (principal: Principal, presentationId: string) => roleFor(principal, (userId) => presentations.roleOf(presentationId, userId));
  const channels = new ChannelPolicy({
    roleOn,
    mayFollowStatus: (principal, userId) => status.maySee(principal, userId),
    watchMembership: (principal, presentationId, onRevoked) =>
      watchMembership(bus, presentationId, principal, async () => (await roleOn(principal, presentationId)) !== null, onRevoked),
  });
  const socketMessages = new SocketMessages();
  const auto = startAutoNotifications({ config, jobs, mentions, notifications, presentations, log: app.log });
  const membership = new MembershipAnnouncer({ collab, notifications, presentations, auto, log: app.log });
  const deletion = new PresentationDeletion({ presentations, collab, notifications, log: app.log });
  const lifecycle = new Lifecycle({
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    log: app.log,
    collab,
    sse: streaming.sse,
    bus,
    connections,
    redis,
    db,
  });
  lifecycle.onStop('notification retention', () => notifications.stopRetention());
  lifecycle.onStop('job publish retries', () => jobs.stop());
  lifecycle.onStop('automatic versions', () => autoVersions.stop());
  lifecycle.onStop('activity retention', () => activity.stopRetention());
  lifecycle.onStop('chat retention and typing', () => chat.stop());
  lifecycle.onStop('status heartbeat', () => status.stop());
  lifecycle.onStop('presentation deletion cleanup', () => deletion.stop());
  lifecycle.onStop('json socket pings', () => streaming.heartbeat.stop());
  // JSON collaboration sockets hold their documents open: release them now, so the documents can be stored and unload.
  lifecycle.onStop('JSON collaboration documents', () => void bridges.closeAll());
  // A deleted presentation: its JSON collaboration sockets on this instance are told NOT_FOUND and closed.
  const stopFollowingDeletions = collab.onPresentationClosed((presentationId) => void bridges.closePresentation(presentationId));
  lifecycle.onStop('JSON collaboration deletions', stopFollowingDeletions);
  lifecycle.onFlush('coalesced job progress', () => jobs.flush());
  // HTTP rate limits with Redis: counted here, shared through Redis in the background (no round trip per request; the
  // tolerance is in server/limits/http-rate-sync.ts). Without Redis: counted in this process (server/http/plugins.ts).
  const httpRate = redis ? new HttpRateSync({ redis, prefix: `${config.redisPrefix}:rl:`, syncMs: config.limits.httpRateSyncMs }) : undefined;
  if (httpRate) lifecycle.onFlush('HTTP rate counts', () => httpRate.close());
  const services: Services = {
    config,
    db,
    verifier,
    presentations,
    collab,
    documents,
    bus,
    redis,
    metrics,
    jobs,
    notifications,
    channels,
    chat,
    status,
    streaming,
    connections,
    httpRate,
    lifecycle,
    versions,
    activity,
    startedAt: Date.now(),
  };
  app.decorate('deckhand', services);
  app.decorateRequest('principal', null);

  await registerHttpPlugins(app, { config, httpRate, lifecycle });

  registerCollabRoute(app, collab, config);
  registerHealthRoutes(app, [
    { name: 'store', check: async () => (await db.ping(), 'ok') },
    { name: 'bus', check: async () => (redis ? (await bus.ping(), 'ok') : 'disabled') },
  ]);
  registerPresentationRoutes(app, {
    verifier,
    presentations,
    onRoleChange: (presentationId, userId, role, change) =>
      membership.changed({ presentationId, userId, role, previous: change.previous, by: { userId: change.by.userId, name: change.by.name } }),
    activity,
  });
  registerPresentationDashboardRoutes(app, { verifier, presentations, deletion });
  registerLockRoutes(app, { verifier, presentations, locks: collab.locks, lockTarget: collab.lockTarget, activity });
  registerDocumentRoutes(app, {
    verifier,
    documents,
    bridges,
    locks: collab.locks,
    relay: awarenessRelay,
    streaming,
  });
  registerPresenceRoutes(app, { verifier, presentations, presence: collab.presence });
  await app.register(jobsPlugin, { streaming, jobs, db });
  await app.register(chatPlugin, { verifier, chat, socketMessages });
  await app.register(statusPlugin, { verifier, status });
  await app.register(notificationsPlugin, { streaming, notifications, policy: channels, socketMessages });
  registerStatsRoute(app, {
    verifier,
    metrics,
    jobs,
    sse: streaming.sse,
    bus,
    startedAt: services.startedAt,
    seed: {
      activeUsers: () => userConnections.users().length,
      jobSubscribers: () => streaming.activity.followersOf(jobChannel('')),
      channels: () => streaming.activity.channels,
      notificationHistorySize: () => notifications.storedCount(),
      totalEditOperations: () => edits.total,
    },
  });
  registerMetricsRoute(app, { verifier, metrics });
  notifications.startRetention();
  await app.register(versionsPlugin, { verifier, presentations, versions });
  await app.register(activityPlugin, { verifier, presentations, activity });
  activity.startRetention();
  chat.start();
  status.start();
  // Outside production: the demo page at / and its dev-only token and generation routes.
  registerDemo(app);

  // Shutdown phase 2 (server/lifecycle.ts): bus and Redis, then the store.
  app.addHook('onClose', () => lifecycle.closeResources());
  return app;
}
