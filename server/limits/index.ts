/**
 * Limits shared by every endpoint: the connection counter (memory, or Redis when REDIS_URL is set, so
 * WEBSOCKET_MAX_CONNECTIONS_PER_USER holds across instances; guarantees in ./connection-counter.ts), and the HTTP rate
 * limit (./http-rate-limit.ts; its counts in this process, ./local-rate-counts.ts, or with Redis counted locally and
 * shared through Redis in the background, ./http-rate-sync.ts).
 */
import type { Redis } from 'ioredis';
import type { ConnectionCounter } from './connection-counter.js';
import { MemoryConnectionCounter } from './memory-counter.js';
import { RedisConnectionCounter } from './redis-counter.js';

export type { ConnectionCounter } from './connection-counter.js';
export { MemoryConnectionCounter } from './memory-counter.js';
export { RedisConnectionCounter, type RedisConnectionCounterOptions } from './redis-counter.js';
export { HttpRateLimit, type RateCount, type RateCounts, secondsLeft } from './http-rate-limit.js';
export { HttpRateSync } from './http-rate-sync.js';
export { LocalRateCounts } from './local-rate-counts.js';

export interface ConnectionCounterDeps {
  maxPerUser: number;
  /** The app's general Redis client, when REDIS_URL is set. */
  redis?: Redis | undefined;
  prefix: string;
  logger?: { warn(obj: object, msg: string): void };
}

export function createConnectionCounter(deps: ConnectionCounterDeps): ConnectionCounter {
  if (!deps.redis) return new MemoryConnectionCounter(deps.maxPerUser);
  return new RedisConnectionCounter({ redis: deps.redis, prefix: deps.prefix, maxPerUser: deps.maxPerUser, logger: deps.logger });
}
