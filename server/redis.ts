import { Redis } from 'ioredis';

/**
 * A Redis client for one job (bus publisher, subscriber, Hocuspocus extension, rate limiter). ioredis reconnects on
 * its own; commands fail fast while it is down instead of queueing without bound.
 */
export function createRedisClient(url: string, name: string): Redis {
  const client = new Redis(url, {
    connectionName: `deckhand-${name}`,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    lazyConnect: false,
  });
  // Errors are surfaced through failed commands and /health/ready; an 'error' event without a listener would throw.
  client.on('error', () => {});
  return client;
}
