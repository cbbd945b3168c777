/**
 * @hocuspocus/extension-redis leaves two kinds of promise un-awaited: the reply it publishes for a sync message from
 * another instance (Hocuspocus' MessageReceiver calls `reply()` without awaiting it), and its own async
 * `messageBuffer` listener. When Redis is unreachable, or while an instance shuts down (the extension disconnects its
 * clients with commands still queued: "Connection is closed."), those reject with nobody listening: unhandled
 * rejections. Nothing is lost by them (edits are in Postgres before the ack; replicas resync after a reconnect), so
 * on the extension's clients they are logged at debug level instead. Awaited callers still see the rejection.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

export function guardUnawaitedRedisPromises(client: Redis, logger: FastifyBaseLogger): Redis {
  const publish = client.publish.bind(client) as (...args: unknown[]) => Promise<number>;
  client.publish = ((...args: unknown[]) => {
    const pending = publish(...args);
    pending.catch((err: unknown) => logger.debug({ err }, 'collab redis publish failed'));
    return pending;
  }) as Redis['publish'];

  const on = client.on.bind(client) as (event: string | symbol, listener: (...args: unknown[]) => unknown) => Redis;
  client.on = ((event: string | symbol, listener: (...args: unknown[]) => unknown) => {
    if (event !== 'messageBuffer' && event !== 'message') return on(event, listener);
    return on(event, (...args: unknown[]) => {
      try {
        const result = listener(...args);
        if (result instanceof Promise) result.catch((err: unknown) => logger.warn({ err }, 'collab redis message failed'));
      } catch (err) {
        logger.warn({ err }, 'collab redis message failed');
      }
    });
  }) as Redis['on'];
  return client;
}
