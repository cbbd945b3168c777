/**
 * What every streaming endpoint (JSON WebSockets and SSE of jobs and notifications) shares: built once per app
 * (createStreamingContext) and handed to each feature plugin, which adds its own service.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { TokenVerifier } from '../auth/jwt.js';
import type { Bus } from '../bus/types.js';
import type { Config } from '../config.js';
import { MemoryConnectionCounter, type ConnectionCounter } from '../limits/index.js';
import type { Metrics } from '../metrics.js';
import { SocketHeartbeat } from './heartbeat.js';
import type { JsonSocketLimits } from './json-socket.js';
import { LocalActivity } from './local-activity.js';
import { SseHub } from './sse-stream.js';
import { JsonSocketUpgrades } from './upgrade.js';

export interface StreamingContext {
  config: Config;
  verifier: TokenVerifier;
  bus: Bus;
  /** Connections per user per endpoint kind (shared by every instance when Redis is configured). */
  limiter: ConnectionCounter;
  metrics: Metrics;
  sse: SseHub;
  socketLimits: JsonSocketLimits;
  /** The server's pings on JSON sockets (dead peers are dropped). */
  heartbeat: SocketHeartbeat;
  /** Channels followed through these endpoints on this instance (GET /realtime/stats). */
  activity: LocalActivity;
  /** Upgrades of the JSON socket routes, taken before Fastify's router (./upgrade.ts). */
  upgrades: JsonSocketUpgrades;
  log: FastifyBaseLogger;
}

export interface StreamingDeps {
  config: Config;
  verifier: TokenVerifier;
  bus: Bus;
  metrics: Metrics;
  log: FastifyBaseLogger;
  /** Per-user connection counter (server/limits); in-process when omitted. */
  connections?: ConnectionCounter;
}

export function createStreamingContext(deps: StreamingDeps): StreamingContext {
  const { config } = deps;
  const activity = new LocalActivity();
  return {
    config,
    verifier: deps.verifier,
    bus: activity.trackBus(deps.bus),
    limiter: deps.connections ?? new MemoryConnectionCounter(config.limits.maxConnectionsPerUser),
    metrics: deps.metrics,
    sse: new SseHub(config.sseKeepaliveMs),
    socketLimits: {
      maxFrameBytes: config.limits.wsMaxFrameBytes,
      outboundCap: config.limits.outboundBufferBytes,
      rateBurst: config.limits.rateBurst,
      ratePerSec: config.limits.ratePerSec,
    },
    heartbeat: new SocketHeartbeat(config.wsPingIntervalMs),
    activity,
    upgrades: new JsonSocketUpgrades(),
    log: deps.log,
  };
}
