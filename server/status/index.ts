/**
 * User status, one Fastify plugin (./routes.ts). `createStatus` builds the feature before the endpoints that count
 * connections: its `connections.track(counter)` is the counter every endpoint takes its per-user slots from, so each
 * live connection (/collab, JSON sockets, SSE) counts towards the user being online.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { TokenVerifier } from '../auth/jwt.js';
import type { Bus } from '../bus/types.js';
import { watchReconnects } from '../collab/redis-resync.js';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { Db } from '../store/db.js';
import type { PresentationStore } from '../store/presentations.js';
import { MemoryLiveness } from './liveness.js';
import { RedisLiveness } from './redis-liveness.js';
import { registerStatusRoutes } from './routes.js';
import { StatusService } from './status-service.js';
import { StatusStore } from './status-store.js';
import type { UserConnections } from './user-connections.js';

export { StatusService } from './status-service.js';
export { UserConnections } from './user-connections.js';

export interface StatusDeps {
  config: Config;
  db: Db;
  presentations: PresentationStore;
  bus: Bus;
  redis: Redis | undefined;
  metrics: Metrics;
  log: FastifyBaseLogger;
  connections: UserConnections;
}

export function createStatusService(deps: StatusDeps): StatusService {
  const { config, redis } = deps;
  const ttlMs = config.statusPresenceTtlMs;
  const service = new StatusService({
    store: new StatusStore(deps.db),
    liveness: redis ? new RedisLiveness(redis, config.redisPrefix, ttlMs) : new MemoryLiveness(),
    connections: deps.connections,
    presentations: deps.presentations,
    bus: deps.bus,
    metrics: deps.metrics,
    log: deps.log,
    intervalMs: Math.max(250, Math.floor(ttlMs / 3)),
  });
  if (redis) watchReconnects(() => void service.reannounce())(redis);
  return service;
}

export async function statusPlugin(app: FastifyInstance, options: { verifier: TokenVerifier; status: StatusService }): Promise<void> {
  registerStatusRoutes(app, options.verifier, options.status);
}
