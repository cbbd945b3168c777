import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSlides, insertSlide, slideText } from '../../shared/presentation.js';
import { openClient, jsonOf, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase, loadFromDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';

/** A seeded PRNG (mulberry32), so a failing run can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('collaboration: convergence and durability of acked edits', () => {
  let server: TestServer;
  let databaseUrl: string;
  const clients: CollabClient[] = [];

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('conv');
    server = await startServer({ DATABASE_URL: databaseUrl });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
  });

  it('three clients converge after 60+ concurrent random edits, and Postgres holds the same document', async () => {
    const users = ['alice', 'bob', 'carol'];
    const seed = Number(process.env.SEED ?? 20261122);
    const random = rng(seed);
    // alice opens first and becomes owner (AUTO_CREATE_PRESENTATIONS); the others are made editors.
    const first = openClient({ url: server.wsUrl, presentationId: 'conv1', token: mintToken('alice') });
    clients.push(first);
    await waitSynced(first);
    for (const user of ['bob', 'carol']) {
      const res = await fetch(`${server.url}/api/v1/presentations/conv1/members/${user}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${mintToken('alice')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'editor' }),
      });
      expect(res.status).toBe(200);
    }
    const others = users.slice(1).map((u) => openClient({ url: server.wsUrl, presentationId: 'conv1', token: mintToken(u) }));
    clients.push(...others);
    const all = [first, ...others];
    await Promise.all(others.map((c) => waitSynced(c)));

    insertSlide(first.doc, { id: 's0', title: 'Intro' });
    await waitFor(() => all.every((c) => getSlides(c.doc).length === 1), 5000, 'first slide everywhere');

    // 90 edits, 30 per client, interleaved without waiting for each other.
    let slideCounter = 1;
    await Promise.all(
      all.map(async (client, ci) => {
        for (let i = 0; i < 30; i++) {
          const slides = getSlides(client.doc);
          const op = random();
          if (op < 0.25 || slides.length === 0) {
            insertSlide(client.doc, { id: `s${ci}-${slideCounter++}`, title: `t${i}` }, Math.floor(random() * (slides.length + 1)));
          } else if (op < 0.35 && slides.length > 1) {
            slides.delete(Math.floor(random() * slides.length), 1);
          } else {
            const slide = slides.get(Math.floor(random() * slides.length));
            const text = slideText(slide, random() < 0.5 ? 'title' : 'body');
            text.insert(Math.floor(random() * (text.length + 1)), `${users[ci]}${i} `);
          }
          if (random() < 0.3) await new Promise((r) => setTimeout(r, Math.floor(random() * 5)));
        }
      }),
    );
    await Promise.all(all.map((c) => waitAcked(c, 15_000)));
    await waitFor(() => new Set(all.map((c) => jsonOf(c.doc))).size === 1, 10_000, `convergence (seed ${seed})`);

    // What Postgres holds (snapshot + log) is the same document.
    const fromDb = await loadFromDatabase(databaseUrl, 'presentation:conv1');
    expect(jsonOf(fromDb)).toBe(jsonOf(first.doc));
    expect(getSlides(fromDb).length).toBeGreaterThan(1);
  });
});
