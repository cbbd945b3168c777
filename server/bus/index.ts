/** The bus for a config: Redis when REDIS_URL is set, else in-process. Guarantees: ./types.ts. */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { MemoryBus } from './memory.js';
import { RedisBus } from './redis.js';
import type { Bus, BusOptions } from './types.js';

export type { Bus, BusListener, ChannelSnapshot, ChannelState, CommitResult, HistoryResult, StateChange, Unsubscribe } from './types.js';
export { BusEvent } from './types.js';

export function createBus(config: Config, logger: FastifyBaseLogger, options: BusOptions = {}): Bus {
  const onListenerError = (err: unknown, channel: string) => logger.error({ err, channel }, 'bus listener failed');
  if (config.redisUrl) {
    return new RedisBus({ ...options, url: config.redisUrl, prefix: config.redisPrefix, logger, onListenerError });
  }
  return new MemoryBus({ ...options, onListenerError });
}
