/**
 * The composition root: `build(config)` wires store, auth, collaboration and HTTP routes into a Fastify app.
 * It does not listen and installs no signal handlers (main.ts does both), so tests build as many apps as they need.
 */
import { can, roleFor } from './access/policy.js';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
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
import { registerErrorHandling } from './http/errors.js';
import { createConnectionCounter, type ConnectionCounter } from './limits/index.js';
import { Metrics } from './metrics.js';
import { createRealtime, registerRealtimeRoutes, type RealtimeService } from './realtime/index.js';
import { createRedisClient } from './redis.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerLockRoutes } from './routes/locks.js';
import { registerPresenceRoutes } from './routes/presence.js';
import { registerPresentationRoutes } from './routes/presentations.js';
import type { Db } from './store/db.js';
import { openStore } from './store/index.js';
import { PresentationStore } from './store/presentations.js';

export interface Services {
  config: Config;
  db: Db;
  verifier: TokenVerifier;
  presentations: PresentationStore;
  collab: CollabService;
  /** Events between instances (in-process, or Redis when REDIS_URL is set). */
  bus: Bus;
  /** A general-purpose Redis client (rate limits, readiness), when REDIS_URL is set. */
  redis: Redis | undefined;
  /** Prometheus registry of this app (GET /metrics) and the counters behind GET /realtime/stats. */
  metrics: Metrics;
  /** Job progress and notifications (server/realtime); `realtime.policy` authorizes notification channels. */
  realtime: RealtimeService;
  /** Connections per user per endpoint kind, across instances when REDIS_URL is set (server/limits). */
  connections: ConnectionCounter;
  startedAt: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    deckhand: Services;
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
  const connections = createConnectionCounter({ maxPerUser: config.limits.maxConnectionsPerUser, redis, prefix: config.redisPrefix, logger: app.log });
  const collab = createCollab({ config, db, verifier, presentations, logger: app.log, bus, lockStore, presenceStore, connections });
  const metrics = new Metrics({
    documents: () => collab.hocuspocus.getDocumentsCount(),
    connections: () => collab.hocuspocus.getConnectionsCount(),
  });
  const realtime = createRealtime({ config, db, verifier, bus, metrics, log: app.log, connections });
  const services: Services = { config, db, verifier, presentations, collab, bus, redis, metrics, realtime, connections, startedAt: Date.now() };
  app.decorate('deckhand', services);
  app.decorateRequest('principal', null);

  registerErrorHandling(app);
  await app.register(helmet, { contentSecurityPolicy: false, crossOriginEmbedderPolicy: false });
  await app.register(cors, { origin: config.corsOrigins === '*' ? true : config.corsOrigins, credentials: true });
  await app.register(rateLimit, {
    global: true,
    max: config.limits.httpRateMax,
    timeWindow: config.limits.httpRateWindowMs,
    ...(redis ? { redis, nameSpace: `${config.redisPrefix}:rl:` } : {}),
    // Redis down must not take the whole HTTP API down with it (Postgres holds the state): while it is not connected
    // nothing is counted, and requests do not wait for ioredis's reconnect attempts.
    skipOnError: true,
    ...(redis ? { allowList: () => redis.status !== 'ready' } : {}),
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      type: 'error',
      error_code: 'RATE_LIMIT_EXCEEDED',
      message: `rate limit exceeded, retry in ${ctx.after}`,
      timestamp: new Date().toISOString(),
    }),
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Deckhand API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(websocket, {
    options: {
      maxPayload: Math.max(config.limits.collabMaxFrameBytes, config.limits.wsMaxFrameBytes),
      perMessageDeflate: false,
    },
    preClose: async function preClose(this: FastifyInstance) {
      // Stop taking WebSocket upgrades first: clients told to reconnect must not come back to this instance while
      // it drains (the plugin's default preClose does this too; this one replaces it).
      this.server.removeAllListeners('upgrade');
      collab.closing = true;
      const deadline = Date.now() + Math.max(100, config.shutdownTimeoutMs - 1000);
      const result = await collab.shutdown(deadline);
      if (result.documentsLeft > 0 || result.appendsLeft > 0) {
        this.log.error(result, 'shutdown deadline reached: some documents or appends could not be stored');
      }
      for (const client of this.websocketServer.clients) client.close(1012, 'server shutting down, reconnect');
      this.websocketServer.close();
    },
  });

  registerCollabRoute(app, collab, config);
  registerHealthRoutes(app, [
    { name: 'store', check: async () => (await db.ping(), 'ok') },
    { name: 'bus', check: async () => (redis ? (await bus.ping(), 'ok') : 'disabled') },
  ]);
  registerPresentationRoutes(app, {
    verifier,
    presentations,
    onRoleChange: (presentationId, userId, role) => collab.publishRoleChange(presentationId, userId, role),
  });
  registerLockRoutes(app, { verifier, presentations, locks: collab.locks, lockTarget: collab.lockTarget });
  registerPresenceRoutes(app, { verifier, presentations, presence: collab.presence });
  // Dashboards may follow `presence.{id}` on the notifications socket when they are members of the presentation,
  // and only while they are: a removal (announced on the bus) ends the subscription.
  const mayFollowPresence = async (principal: Principal, presentationId: string) =>
    can(await roleFor(principal, (userId) => presentations.roleOf(presentationId, userId)), 'read');
  realtime.policy.setPresenceAuthorizer(mayFollowPresence, (principal, presentationId, onRevoked) =>
    watchMembership(bus, presentationId, principal, () => mayFollowPresence(principal, presentationId), onRevoked),
  );
  registerRealtimeRoutes(app, realtime, collab);
  // Outside production: the demo page at / and its dev-only token and generation routes.
  registerDemo(app);

  app.addHook('onClose', async () => {
    await Promise.allSettled([db.close(), bus.close(), connections.close().then(() => redis?.quit())]);
  });
  return app;
}
