/** What the realtime endpoints share: built once per app by createRealtime (./index.ts). */
import type { FastifyBaseLogger } from 'fastify';
import type { TokenVerifier } from '../auth/jwt.js';
import type { Bus } from '../bus/types.js';
import type { Config } from '../config.js';
import type { ConnectionCounter } from '../limits/index.js';
import type { Metrics } from '../metrics.js';
import type { ChannelPolicy } from './channel-policy.js';
import type { JobsService } from './jobs.js';
import type { JsonSocketLimits } from './json-socket.js';
import type { NotificationsService } from './notifications.js';
import type { SseHub } from './sse.js';

export interface RealtimeContext {
  config: Config;
  verifier: TokenVerifier;
  bus: Bus;
  jobs: JobsService;
  notifications: NotificationsService;
  policy: ChannelPolicy;
  /** Connections per user per endpoint kind (shared by every instance when Redis is configured). */
  limiter: ConnectionCounter;
  metrics: Metrics;
  sse: SseHub;
  socketLimits: JsonSocketLimits;
  log: FastifyBaseLogger;
}
