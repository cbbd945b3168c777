import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSlides, insertSlide, slideText } from '../../shared/presentation.js';
import { openClient, jsonOf, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { startPair, type TestPair } from '../helpers/cluster.js';
import { loadFromDatabase } from '../helpers/database.js';
import { mintToken, type TestServer } from '../helpers/server.js';

describe('two instances sharing Redis and Postgres', () => {
  let a: TestServer;
  let b: TestServer;
  let databaseUrl: string;
  let pair: TestPair | undefined;
  const clients: CollabClient[] = [];

  beforeAll(async () => {
    pair = await startPair('multi');
    ({ a, b, databaseUrl } = pair);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await pair?.close();
  });

  it('converge, and after both stop the database holds every edit from both', async () => {
    // alice opens first, on A, and owns the deck; everyone else is made an editor before opening it.
    const alice = openClient({ url: a.wsUrl, presentationId: 'shared', token: mintToken('alice') });
    await waitSynced(alice);
    for (const u of ['anna', 'bob', 'bea']) {
      const res = await fetch(`${a.url}/api/v1/presentations/shared/members/${u}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${mintToken('alice')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'editor' }),
      });
      expect(res.status).toBe(200);
    }
    const onA = [alice, openClient({ url: a.wsUrl, presentationId: 'shared', token: mintToken('anna') })];
    const onB = ['bob', 'bea'].map((u) => openClient({ url: b.wsUrl, presentationId: 'shared', token: mintToken(u) }));
    const all = [...onA, ...onB];
    clients.push(...all);
    await Promise.all(all.map((c) => waitSynced(c)));

    insertSlide(all[0]!.doc, { id: 'root', title: '' });
    await waitFor(() => all.every((c) => getSlides(c.doc).length === 1), 10_000, 'root slide on both instances');

    await Promise.all(
      all.map(async (client, i) => {
        for (let n = 0; n < 25; n++) {
          if (n % 5 === 0) insertSlide(client.doc, { id: `c${i}-${n}`, title: `from ${i}` });
          else slideText(getSlides(client.doc).get(0), 'body').insert(0, `[${i}:${n}]`);
          if (n % 4 === 0) await new Promise((r) => setTimeout(r, 2));
        }
      }),
    );
    await Promise.all(all.map((c) => waitAcked(c, 15_000)));
    await waitFor(() => new Set(all.map((c) => jsonOf(c.doc))).size === 1, 15_000, 'convergence across instances');
    const expected = jsonOf(all[0]!.doc);
    const body = slideText(getSlides(all[0]!.doc).get(0), 'body').toString();
    for (let i = 0; i < all.length; i++) for (const n of [1, 24]) expect(body).toContain(`[${i}:${n}]`);

    for (const c of all) c.destroy();
    await a.close();
    await b.close();

    const fromDb = await loadFromDatabase(databaseUrl, 'presentation:shared');
    expect(jsonOf(fromDb)).toBe(expected);
  });
});
