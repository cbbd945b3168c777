import { afterAll, describe, expect, it } from 'vitest';
import { insertSlide, getSlides, slideText } from '../../shared/presentation.js';
import { jsonOf, openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase } from '../helpers/database.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';

describe('Redis restarted mid-edit', () => {
  const clients: CollabClient[] = [];
  const servers: TestServer[] = [];
  let redis: RedisServer | undefined;
  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const s of servers) await s.close();
    await redis?.stop();
  });

  it('instances resync documents that changed meanwhile; replicas converge within 10 s', async () => {
    redis = await startRedis();
    const env = { DATABASE_URL: await createTestDatabase('redisrestart'), REDIS_URL: redis.url, REDIS_PREFIX: 'rr' };
    const a = await startServer(env);
    const b = await startServer(env);
    servers.push(a, b);
    const onA = openClient({ url: a.wsUrl, presentationId: 'rr', token: mintToken('alice') });
    await waitSynced(onA);
    await fetch(`${a.url}/api/v1/presentations/rr/members/bob`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${mintToken('alice')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'editor' }),
    });
    const onB = openClient({ url: b.wsUrl, presentationId: 'rr', token: mintToken('bob') });
    clients.push(onA, onB);
    await waitSynced(onB);
    insertSlide(onA.doc, { id: 's', title: '' });
    await waitFor(() => getSlides(onB.doc).length === 1, 5000, 'initial sync across instances');

    await redis.stop();
    // Both sides keep editing: acks come from Postgres, not Redis.
    slideText(getSlides(onA.doc).get(0), 'title').insert(0, 'from A during outage;');
    slideText(getSlides(onB.doc).get(0), 'body').insert(0, 'from B during outage;');
    await Promise.all([waitAcked(onA), waitAcked(onB)]);
    await new Promise((r) => setTimeout(r, 300));
    expect(jsonOf(onA.doc)).not.toBe(jsonOf(onB.doc)); // apart while Redis is down

    redis = await startRedis(redis.port);
    const restarted = Date.now();
    await waitFor(() => jsonOf(onA.doc) === jsonOf(onB.doc), 10_000, 'convergence after Redis restart');
    expect(Date.now() - restarted).toBeLessThan(10_000);
    const title = slideText(getSlides(onB.doc).get(0), 'title').toString();
    expect(title).toContain('from A during outage;');
    expect(slideText(getSlides(onA.doc).get(0), 'body').toString()).toContain('from B during outage;');
  });
});
