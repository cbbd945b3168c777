import type { Extension } from '@hocuspocus/server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { build } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { guardUnawaitedRedisPromises } from '../../server/collab/redis-client-guard.js';
import { withSafeUnawaitedHooks } from '../../server/collab/safe-hooks.js';
import { routeConsoleToLogger } from '../../server/console-to-log.js';
import { createRedisClient } from '../../server/redis.js';
import { insertSlide } from '../../shared/presentation.js';
import { openClient, waitAcked, waitSynced } from '../helpers/collab-client.js';
import { createTestDatabase } from '../helpers/database.js';
import { baseEnv, mintToken } from '../helpers/server.js';

describe('errors thrown inside un-awaited Hocuspocus hooks and extension-redis', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('are logged, never unhandled rejections, and the document keeps working', async () => {
    const logged: unknown[] = [];
    const logger = { error: (obj: unknown) => logged.push(obj) } as never;
    const throwing: Extension = {
      extensionName: 'throwing',
      async onChange() {
        throw new Error('boom in onChange');
      },
      async onAwarenessUpdate() {
        throw new Error('boom in onAwarenessUpdate');
      },
    };
    const app = await build(loadConfig(baseEnv({ DATABASE_URL: await createTestDatabase('hooks') })), { logger: false });
    // Add the faulty extension the way a plugin would: wrapped, like every extension createCollab installs.
    app.deckhand.collab.hocuspocus.configuration.extensions.push(withSafeUnawaitedHooks(throwing, logger));
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const client = openClient({ url: `${address.replace('http', 'ws')}/api/v1/collab`, presentationId: 'hooks', token: mintToken('alice') });
    try {
      await waitSynced(client);
      client.provider.setAwarenessField('cursor', 1);
      insertSlide(client.doc, { id: 'a' });
      await waitAcked(client);
      await new Promise((r) => setTimeout(r, 100));
      expect(unhandled).toEqual([]);
      expect(logged.length).toBeGreaterThanOrEqual(2);
    } finally {
      client.destroy();
      await app.close();
    }
  });

  it("extension-redis' un-awaited replies and listener on a closed Redis connection are logged, never unhandled", async () => {
    const debug: unknown[] = [];
    const warn: unknown[] = [];
    const logger = { debug: (obj: unknown) => debug.push(obj), warn: (obj: unknown) => warn.push(obj) } as never;
    const client = guardUnawaitedRedisPromises(createRedisClient(inject('redisUrl'), 'guard-test'), logger);
    await client.ping();
    // What the extension does: an async listener that publishes a reply without awaiting it, and throws.
    client.on('messageBuffer', async () => {
      void client.publish('deckhand-test:reply', 'x');
      throw new Error('boom in the listener');
    });
    client.disconnect(false); // as the extension's onDestroy does, with work still in flight
    void client.publish('deckhand-test:channel', 'not awaited');
    client.emit('messageBuffer', Buffer.from('channel'), Buffer.from('data'));
    // An awaited publish still reports its failure to its caller.
    await expect(client.publish('deckhand-test:channel', 'awaited')).rejects.toThrow(/Connection is closed/);
    await new Promise((r) => setTimeout(r, 100));
    expect(unhandled).toEqual([]);
    expect(debug.length).toBeGreaterThanOrEqual(3);
    expect(warn).toHaveLength(1);
  });

  it("Hocuspocus' console reports become log lines: errors with their exception, routine hook stops at debug", () => {
    const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
    const at = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg });
    const restore = routeConsoleToLogger({ error: at('error'), warn: at('warn'), debug: at('debug') } as never);
    try {
      const boom = new Error('boom');
      console.error('closing connection c1 (while handling presentation:x) because of exception', boom);
      console.error('[onAuthenticate]', 'not a member');
      console.error('[onStoreDocument]', 'Another instance is already storing this document');
      console.warn('Hocuspocus: closing connection c2: too many pending unauthenticated documents');
    } finally {
      restore();
    }
    expect(lines).toEqual([
      {
        level: 'error',
        fields: { source: 'console', err: expect.objectContaining({ message: 'boom' }) },
        msg: 'closing connection c1 (while handling presentation:x) because of exception',
      },
      { level: 'debug', fields: { source: 'console' }, msg: '[onAuthenticate] not a member' },
      { level: 'debug', fields: { source: 'console' }, msg: '[onStoreDocument] Another instance is already storing this document' },
      { level: 'warn', fields: { source: 'console' }, msg: 'Hocuspocus: closing connection c2: too many pending unauthenticated documents' },
    ]);
  });
});
