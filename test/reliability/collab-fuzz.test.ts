/**
 * Structure-aware fuzzing of /collab and abuse bounds: mutated y-protocols sync, update and awareness messages and
 * random document names, before and after authentication. Seeded (the seed is in the test name; FUZZ_ROUNDS
 * multiplies the quick amount, as `npm run test:soak` does).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { findSlide, getSlides, insertSlide, slideText } from '../../shared/presentation.js';
import { jsonOf, openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase, loadFromDatabase } from '../helpers/database.js';
import { authFrame, awarenessFrame, awarenessUpdate, frame, MessageType, rawClient, syncFrame, typeOf } from '../helpers/hocuspocus-frames.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';

const SEED = Number(process.env.SEED ?? 4242);
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 1);

function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

/** Real updates a provider would send, to mutate. */
function corpus(): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  insertSlide(doc, { id: 'f1', title: 'fuzz', body: 'body' });
  slideText(findSlide(doc, 'f1')!, 'title').insert(2, 'zz');
  getSlides(doc).delete(0, 1);
  doc.getMap('meta').set('title', 'T');
  return updates;
}

function mutate(bytes: Uint8Array, r: ReturnType<typeof prng>): Uint8Array {
  const out = Uint8Array.from(bytes);
  switch (r.int(5)) {
    case 0: // bit flips
      for (let i = 0; i < 1 + r.int(4); i++) out[r.int(out.length)]! ^= 1 << r.int(8);
      return out;
    case 1: // truncation
      return out.slice(0, r.int(out.length));
    case 2: // random bytes inserted
      return Uint8Array.from([
        ...out.slice(0, r.int(out.length)),
        ...Array.from({ length: 1 + r.int(8) }, () => r.int(256)),
        ...out.slice(r.int(out.length)),
      ]);
    case 3: // a huge varint length
      return Uint8Array.from([out[0] ?? 0, 0xff, 0xff, 0xff, 0xff, 0x0f, ...out.slice(1)]);
    default: // duplicated tail
      return Uint8Array.from([...out, ...out.slice(r.int(out.length))]);
  }
}

describe(`collab fuzzing and abuse bounds (seed ${SEED})`, () => {
  let server: TestServer;
  let databaseUrl: string;
  const clients: CollabClient[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    databaseUrl = await createTestDatabase('cfuzz');
    server = await startServer({ DATABASE_URL: databaseUrl });
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    for (const c of clients) c.destroy();
    await server?.close();
  });

  it('mutated sync, update and awareness frames before and after auth: no crash, no ack for what failed, others unaffected', async () => {
    const r = prng(SEED);
    const token = mintToken('alice');
    const healthy = openClient({ url: server.wsUrl, presentationId: 'fuzzdoc', token });
    clients.push(healthy);
    await waitSynced(healthy);
    insertSlide(healthy.doc, { id: 'keep', title: 'healthy' });
    await waitAcked(healthy);
    const updates = corpus();

    let acksForFailed = 0;
    for (let round = 0; round < 6 * ROUNDS; round++) {
      const c = await rawClient(server.wsUrl);
      const authed = round % 2 === 1;
      const doc = r.next() < 0.8 ? 'presentation:fuzzdoc' : `presentation:${r.int(1e9).toString(36)}`;
      if (authed) {
        c.send(authFrame(doc, token));
        await waitFor(() => c.received.length > 0 || c.ws.readyState !== c.ws.OPEN, 5000, 'auth answer');
      }
      for (let i = 0; i < 50 && c.ws.readyState === c.ws.OPEN; i++) {
        const base = updates[r.int(updates.length)]!;
        const kind = r.int(4);
        const sent =
          kind === 0
            ? syncFrame(doc, 2, mutate(base, r))
            : kind === 1
              ? syncFrame(doc, r.int(3), mutate(base, r))
              : kind === 2
                ? awarenessFrame(doc, mutate(awarenessUpdate(r.int(2 ** 30), { user: { name: 'x' }, n: i }), r))
                : mutate(syncFrame(doc, 2, base), r);
        // One frame at a time, waiting for its answer (Hocuspocus handles a connection's messages in order), so an
        // ack can be attributed to the frame that caused it.
        const before = c.received.length;
        c.send(sent);
        const deadline = Date.now() + 200;
        while (c.received.length === before && c.ws.readyState === c.ws.OPEN && Date.now() < deadline) {
          await new Promise((res) => setTimeout(res, 2));
        }
        await new Promise((res) => setTimeout(res, 5));
        const answer = c.received.slice(before).map((m) => {
          try {
            return typeOf(m);
          } catch {
            return -1;
          }
        });
        // Refused (socket closed) and acknowledged at once would be an ack for an update that was not applied.
        if (c.ws.readyState !== c.ws.OPEN && answer.includes(MessageType.SyncStatus)) acksForFailed++;
      }
      c.ws.terminate();
    }
    expect(acksForFailed).toBe(0);
    expect(unhandled).toEqual([]);

    // The server is healthy, the healthy client still edits, and what it serves equals what it stored.
    slideText(findSlide(healthy.doc, 'keep')!, 'title').insert(0, 'still ');
    await waitAcked(healthy);
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    const fresh = openClient({ url: server.wsUrl, presentationId: 'fuzzdoc', token });
    clients.push(fresh);
    await waitSynced(fresh);
    await waitFor(() => jsonOf(fresh.doc) === jsonOf(healthy.doc), 5000, 'fresh client equals the healthy one');
    expect(slideText(findSlide(fresh.doc, 'keep')!, 'title').toString()).toBe('still healthy');
    // What Postgres holds (skipping nothing: every stored row decodes) is what the server serves.
    const fromDb = await loadFromDatabase(databaseUrl, 'presentation:fuzzdoc');
    expect(jsonOf(fromDb)).toBe(jsonOf(healthy.doc));
  });

  it('awareness spam is bounded: forged client ids are dropped, at most 4 ids per connection, huge states trimmed', async () => {
    const owner = `Bearer ${mintToken('vera')}`;
    expect((await fetch(`${server.url}/api/v1/presentations/aware`, { method: 'PUT', headers: { authorization: owner } })).status).toBe(201);
    for (const user of ['walt', 'mallory']) {
      await fetch(`${server.url}/api/v1/presentations/aware/members/${user}`, {
        method: 'PUT',
        headers: { authorization: owner, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'editor' }),
      });
    }
    const victim = openClient({ url: server.wsUrl, presentationId: 'aware', token: mintToken('vera', { name: 'Vera' }) });
    const watcher = openClient({ url: server.wsUrl, presentationId: 'aware', token: mintToken('walt') });
    clients.push(victim, watcher);
    await Promise.all([waitSynced(victim), waitSynced(watcher)]);
    victim.provider.setAwarenessField('cursor', { slide: 'v' });
    const victimId = victim.doc.clientID;
    type State = { user?: { id?: string; name?: string }; cursor?: unknown; blob?: string; n?: number };
    const seen = () => watcher.provider.awareness!.getStates() as Map<number, State>;
    await waitFor(() => (seen().get(victimId)?.cursor as { slide?: string } | undefined)?.slide === 'v', 5000, 'victim visible');

    const mallory = await rawClient(server.wsUrl);
    mallory.send(authFrame('presentation:aware', mintToken('mallory')));
    await waitFor(() => mallory.received.length > 0, 5000, 'mallory authenticated');
    // Forge the victim's client id (with a higher clock, so it would win if accepted) ...
    mallory.send(awarenessFrame('presentation:aware', awarenessUpdate(victimId, { user: { id: 'vera', name: 'FORGED' }, cursor: 'evil' }, 50)));
    // ... spam 50 client ids, and one 1 MB state.
    for (let i = 0; i < 50; i++) mallory.send(awarenessFrame('presentation:aware', awarenessUpdate(900_000 + i, { n: i })));
    mallory.send(awarenessFrame('presentation:aware', awarenessUpdate(800_000, { blob: 'x'.repeat(1_000_000) })));
    await new Promise((res) => setTimeout(res, 700));

    const victimSeen = seen().get(victimId);
    expect(victimSeen?.user?.name).toBe('Vera');
    expect(victimSeen?.cursor).toEqual({ slide: 'v' });
    const fromMallory = [...seen().entries()].filter(([, st]) => st.user?.id === 'mallory');
    expect(fromMallory.length).toBeLessThanOrEqual(4);
    expect([...seen().values()].some((st) => typeof st.blob === 'string')).toBe(false);
    expect(unhandled).toEqual([]);
    mallory.ws.close();
  });

  it('pre-auth floods are bounded: too many queued messages or pending documents close the socket', async () => {
    const flood = await rawClient(server.wsUrl);
    for (let i = 0; i < 1200 && flood.ws.readyState === flood.ws.OPEN; i++) flood.send(syncFrame('presentation:flood', 2, new Uint8Array(16)));
    expect(await flood.closed).toBeGreaterThan(1000);
    const fanout = await rawClient(server.wsUrl);
    for (let i = 0; i < 150 && fanout.ws.readyState === fanout.ws.OPEN; i++) fanout.send(syncFrame(`presentation:doc${i}`, 0, new Uint8Array([0])));
    expect(await fanout.closed).toBeGreaterThan(1000);
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    expect(unhandled).toEqual([]);
    expect(frame('x', 0, () => {})).toBeInstanceOf(Uint8Array);
  });
});
