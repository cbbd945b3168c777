/**
 * Randomized convergence, seeded and replayable: N clients over 2 instances make random slide inserts, moves,
 * deletes, text edits and lock requests, with random disconnects and instance restarts; at the end every replica and
 * the database hold the same document. A client whose edit the write guard refused (a locked slide) has diverged by
 * design and resyncs, as the SDK is meant to: it takes a fresh copy of the document before the comparison.
 * `npm test` runs 3 seeds; `npm run test:soak` runs 200 (SOAK_SEEDS).
 * Replay one: SEEDS=1234 npx vitest run test/reliability/random-convergence.test.ts
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { inject } from 'vitest';
import { createSlide, getSlides, insertSlide, slideText } from '../../shared/presentation.js';
import { jsonOf, openClient, reconnect, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase, loadFromDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';

const seeds = process.env.SEEDS
  ? process.env.SEEDS.split(',').map(Number)
  : Array.from({ length: Number(process.env.SOAK_SEEDS ?? 3) }, (_, i) => 1000 + i * 7919);

function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: T[]) => xs[Math.floor(next() * xs.length)] as T };
}

describe('randomized convergence over two instances', () => {
  let databaseUrl: string;
  let ports: number[];
  const servers: Array<TestServer | undefined> = [undefined, undefined];
  let env: Record<string, string>;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('random');
    ports = [await freePort(), await freePort()];
    env = { DATABASE_URL: databaseUrl, REDIS_URL: inject('redisUrl'), REDIS_PREFIX: `rand${Date.now()}`, LOCK_TTL_MS: '2000' };
    for (const i of [0, 1]) servers[i] = await startServer({ ...env, PORT: String(ports[i]) });
  });
  afterAll(async () => {
    for (const s of servers) await s?.close();
  });

  it.each(seeds)(
    'seed %i: all replicas and the database end equal',
    async (seed) => {
      const r = prng(seed);
      let phase = 'setup';
      let clientsForReport: CollabClient[] = [];
      onTestFailed(() =>
        console.error(
          `seed ${seed} failed during: ${phase}; clients ${clientsForReport
            .map(
              (c, i) =>
                `${i}:${c.socket.status}${c.socket.shouldConnect ? '' : '(not reconnecting)'}/${c.provider.isSynced ? 'synced' : 'unsynced'}/${c.provider.unsyncedChanges}/${c.authFailures.join('|')}/${jsonOf(c.doc).length}`,
            )
            .join(' ')}`,
        ),
      );
      const presentationId = `rand-${seed}`;
      const users = ['u0', 'u1', 'u2', 'u3'];
      const owner = mintToken('owner');
      const create = await fetch(`http://127.0.0.1:${ports[0]}/api/v1/presentations/${presentationId}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${owner}` },
      });
      expect(create.status).toBe(201);
      for (const u of users) {
        await fetch(`http://127.0.0.1:${ports[0]}/api/v1/presentations/${presentationId}/members/${u}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
          body: JSON.stringify({ role: 'editor' }),
        });
      }
      const clients: CollabClient[] = users.map((u, i) =>
        openClient({ url: `ws://127.0.0.1:${ports[i % 2]}/api/v1/collab`, presentationId, token: () => mintToken(u) }),
      );
      clientsForReport = clients;
      try {
        phase = 'initial sync';
        await Promise.all(clients.map((c) => waitSynced(c, 15_000)));
        insertSlide(clients[0]!.doc, { id: 'first', title: 'first' });
        let restarts = 0;
        const reconnects: NodeJS.Timeout[] = [];
        for (let step = 0; step < 80; step++) {
          phase = `step ${step}`;
          const c = r.pick(clients);
          const slides = getSlides(c.doc);
          const op = r.next();
          if (op < 0.15) {
            insertSlide(c.doc, { id: `s${seed}-${step}`, title: `t${step}` }, r.int(slides.length + 1));
          } else if (op < 0.22 && slides.length > 1) {
            slides.delete(r.int(slides.length), 1);
          } else if (op < 0.3 && slides.length > 1) {
            // A move: Yjs has none, so a copy at the new place and a delete of the old, in one transaction.
            const from = r.int(slides.length);
            const old = slides.get(from);
            const to = r.int(slides.length);
            c.doc.transact(() => {
              const copy = createSlide({
                id: String(old.get('id')),
                title: slideText(old, 'title').toString(),
                body: slideText(old, 'body').toString(),
              });
              slides.delete(from, 1);
              slides.insert(Math.min(to, slides.length), [copy]);
            });
          } else if (op < 0.38 && slides.length > 0) {
            const id = String(slides.get(r.int(slides.length)).get('id'));
            c.provider.sendStateless(JSON.stringify({ type: r.next() < 0.6 ? 'lock_slide' : 'unlock_slide', slide_id: id }));
          } else if (op < 0.42) {
            c.socket.disconnect();
            const delay = 50 + r.int(200);
            reconnects.push(setTimeout(() => reconnect(c), delay));
          } else if (op < 0.44 && restarts < 2) {
            restarts++;
            const i = r.int(2);
            phase = `step ${step}: closing instance ${i}`;
            await servers[i]?.close();
            phase = `step ${step}: starting instance ${i}`;
            servers[i] = await startServer({ ...env, PORT: String(ports[i]) });
          } else if (slides.length > 0) {
            const slide = slides.get(r.int(slides.length));
            const text = slideText(slide, r.next() < 0.5 ? 'title' : 'body');
            if (r.next() < 0.8 || text.length === 0) text.insert(r.int(text.length + 1), `${step}.`);
            else text.delete(r.int(text.length), 1);
          }
          if (r.next() < 0.3) await new Promise((res) => setTimeout(res, r.int(30)));
        }
        // Every client reconnects and gets every ack; then all replicas converge.
        phase = 'reconnecting clients';
        // Not awaited: connect() resolves only with its own attempt, which a pending reconnect from a random
        // disconnect may supersede; being synced and acknowledged is what counts.
        for (const t of reconnects) clearTimeout(t);
        // A client disconnected on purpose whose reconnect timer was just cleared (its close may still be in flight).
        for (const c of clients) if (!c.socket.shouldConnect || c.socket.status === 'disconnected') reconnect(c);
        phase = 'waiting for acks';
        await Promise.all(clients.map((c) => waitAcked(c, 60_000)));
        phase = 'resyncing the clients the guard refused';
        for (const [i, c] of clients.entries()) {
          const refused = c.stateless.some((m) => (m as { details?: { refused?: string } }).details?.refused !== undefined);
          if (!refused) continue;
          c.destroy();
          clients[i] = openClient({ url: `ws://127.0.0.1:${ports[i % 2]}/api/v1/collab`, presentationId, token: () => mintToken(users[i]!) });
          await waitSynced(clients[i]!, 15_000);
        }
        phase = 'converging';
        await waitFor(() => new Set(clients.map((c) => jsonOf(c.doc))).size === 1, 20_000, `convergence (seed ${seed})`);
        const expected = jsonOf(clients[0]!.doc);

        const fromDb = await loadFromDatabase(databaseUrl, `presentation:${presentationId}`);
        expect(jsonOf(fromDb), `database differs from the replicas (seed ${seed})`).toBe(expected);
      } finally {
        for (const c of clients) c.destroy();
      }
    },
    120_000,
  );
});
