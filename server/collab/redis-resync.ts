/**
 * @hocuspocus/extension-redis does not resync after a Redis reconnect: updates published while Redis (or this
 * instance's connection to it) was down are lost to the other instances, and documents that do not change again
 * stay apart. Its own change path heals a document both ways (a change publishes the state vector; peers answer with
 * what it lacks and with their own state vector, which it answers in turn), so after a reconnect this runs that path
 * for every loaded document. Acknowledged edits were never at risk (they are in Postgres before the ack); this brings
 * the live replicas back together.
 */
import type { Hocuspocus, onChangePayload } from '@hocuspocus/server';
import type { Redis as RedisExtension } from '@hocuspocus/extension-redis';
import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';

/** Calls `onReconnect` (debounced) whenever one of the watched clients becomes ready again after a drop. */
export function watchReconnects(onReconnect: () => void, debounceMs = 250): (client: Redis) => Redis {
  let timer: NodeJS.Timeout | undefined;
  return (client) => {
    let wasReady = false;
    client.on('ready', () => {
      if (wasReady) {
        clearTimeout(timer);
        timer = setTimeout(onReconnect, debounceMs);
        timer.unref();
      }
      wasReady = true;
    });
    return client;
  };
}

export function resyncLoadedDocuments(hocuspocus: Hocuspocus, extension: RedisExtension, logger: FastifyBaseLogger): number {
  let n = 0;
  for (const [documentName, document] of hocuspocus.documents) {
    const payload = { documentName, document, transactionOrigin: { source: 'local' } } as unknown as onChangePayload;
    extension.onChange(payload).catch((err: unknown) => logger.warn({ err, documentName }, 'resync publish failed'));
    n++;
  }
  logger.info({ documents: n }, 'redis reconnected: resyncing loaded documents with other instances');
  return n;
}
