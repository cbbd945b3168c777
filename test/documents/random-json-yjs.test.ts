/**
 * Seeded, replayable: Yjs editors (real providers) and JSON clients (the collaboration socket, over ws) on two
 * instances edit one deck at random — slides added, moved, deleted, text typed and removed, meta set, REST batches —
 * without waiting for each other. At the end every replica equals the document loaded afresh from Postgres: each
 * Yjs document, and each JSON client's copy built only from `connected` and the `edit_operation`s it received.
 * Replay one: SEEDS=4242 npx vitest run test/documents/random-json-yjs.test.ts
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { applyOperation, type DocumentJson } from '../../shared/document-json.js';
import type { Operation } from '../../shared/operations.js';
import { documentJsonOf, documentName, getMeta, getSlides, insertSlide, moveSlide, orderedSlides, slideText } from '../../shared/presentation.js';
import { openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { startPair, type TestPair } from '../helpers/cluster.js';
import { loadFromDatabase } from '../helpers/database.js';
import type { JsonWsClient } from '../helpers/json-ws.js';
import { prng, type Prng } from '../helpers/prng.js';
import { mintToken, type TestServer } from '../helpers/server.js';
import { call, createDeck, openJsonCollab } from './support.js';

const seeds = process.env.SEEDS ? process.env.SEEDS.split(',').map(Number) : [4242, 4243, 4244];
const FIELDS = ['title', 'body', 'notes'] as const;

/** JSON with object keys sorted: equal documents, equal strings. */
function canonical(doc: DocumentJson): string {
  return JSON.stringify(doc, (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)))
      : value,
  );
}

function copyOf(client: JsonWsClient): DocumentJson {
  const connected = client.messages.find((m) => m.type === 'connected');
  const copy = JSON.parse(JSON.stringify(connected.document)) as DocumentJson;
  for (const m of client.messages) if (m.type === 'edit_operation') applyOperation(copy, m.operation);
  return copy;
}

/** A random operation for what the client's copy shows now (it may be stale: the server then refuses it). */
function randomOperation(r: Prng, copy: DocumentJson, id: string): Operation {
  const slide = copy.slides.length > 0 ? r.pick(copy.slides) : undefined;
  const choice = r.next();
  if (!slide || choice < 0.15)
    return { type: 'add_slide', operation_id: id, slide_id: `j-${id}`, index: r.int(copy.slides.length + 1), content: { title: `t-${id}` } };
  const field = r.pick(FIELDS);
  const text = slide[field];
  if (choice < 0.3) return { type: 'move_slide', operation_id: id, slide_id: slide.id, index: r.int(copy.slides.length) };
  if (choice < 0.36 && copy.slides.length > 2) return { type: 'delete_slide', operation_id: id, slide_id: slide.id };
  if (choice < 0.42) return { type: 'set_meta', operation_id: id, key: r.pick(['title', 'theme']), value: r.next() < 0.2 ? null : `m-${id}` };
  if (choice < 0.5) return { type: 'replace', operation_id: id, slide_id: slide.id, field, content: { text: `r-${id}` } };
  if (choice < 0.65 && text.length > 0) {
    const index = r.int(text.length);
    return { type: 'delete', operation_id: id, slide_id: slide.id, field, index, length: 1 + r.int(Math.min(3, text.length - index)) };
  }
  return { type: 'insert', operation_id: id, slide_id: slide.id, field, index: r.int(text.length + 1), content: { text: `<${id}>` } };
}

function randomYjsEdit(r: Prng, client: CollabClient, id: string): void {
  const doc = client.doc;
  const slides = orderedSlides(doc);
  const choice = r.next();
  if (slides.length === 0 || choice < 0.15) insertSlide(doc, { id: `y-${id}`, title: `y-${id}` }, r.int(slides.length + 1));
  else if (choice < 0.3) moveSlide(doc, r.pick(slides).id, r.int(slides.length));
  else if (choice < 0.35 && slides.length > 2) getSlides(doc).delete(r.pick(slides).arrayIndex, 1);
  else if (choice < 0.4) getMeta(doc).set(r.pick(['title', 'theme']), `y-${id}`);
  else {
    const text = slideText(r.pick(slides).slide, r.pick(FIELDS));
    if (text.length > 0 && r.next() < 0.3) text.delete(r.int(text.length), 1);
    else text.insert(r.int(text.length + 1), `{${id}}`);
  }
}

describe('random edits from Yjs editors and JSON clients on two instances', () => {
  let pair: TestPair;
  let servers: TestServer[];

  beforeAll(async () => {
    pair = await startPair('docrand', { WS_RATE_BURST: '1000', WS_RATE_PER_SEC: '1000', WEBSOCKET_MAX_CONNECTIONS_PER_USER: '50' });
    servers = [pair.a, pair.b];
  });
  afterAll(async () => pair?.close());

  it.each(seeds)(
    'seed %i: every Yjs document and every JSON copy ends equal to the document in Postgres',
    async (seed) => {
      const r = prng(seed);
      const id = `rand-${seed}`;
      await createDeck(pair.a, id, 'olga', { y0: 'editor', y1: 'editor', j0: 'editor', j1: 'editor', j2: 'editor' });
      await call(pair.a, 'POST', `/presentations/${id}/operations`, 'olga', {
        operations: [{ type: 'add_slide', slide_id: 'first', content: { title: 'first' } }],
      });
      const yjs = ['y0', 'y1'].map((u, i) => openClient({ url: servers[i]!.wsUrl, presentationId: id, token: mintToken(u) }));
      const json: JsonWsClient[] = [];
      for (const [i, u] of ['j0', 'j1', 'j2'].entries()) json.push(await openJsonCollab(servers[i % 2]!, id, u));
      let phase = 'setup';
      onTestFailed(() => console.error(`seed ${seed} failed during ${phase}`));
      try {
        await Promise.all(yjs.map((c) => waitSynced(c)));
        const sent = new Map<JsonWsClient, string[]>(json.map((c) => [c, []]));
        for (let step = 0; step < 150; step++) {
          phase = `step ${step}`;
          const choice = r.next();
          const tag = `${seed}-${step}`;
          if (choice < 0.45) randomYjsEdit(r, r.pick(yjs), tag);
          else if (choice < 0.93) {
            const client = r.pick(json);
            const op = randomOperation(r, copyOf(client), tag);
            sent.get(client)!.push(tag);
            client.send({ type: 'edit_operation', operation: op });
          } else {
            const copy = copyOf(json[0]!);
            const ops = [randomOperation(r, copy, `${tag}a`), randomOperation(r, copy, `${tag}b`)];
            const res = await call(r.pick(servers), 'POST', `/presentations/${id}/operations`, 'j0', { operations: ops });
            expect([200, 400]).toContain(res.status);
          }
          if (r.next() < 0.3) await new Promise((res) => setTimeout(res, r.int(15)));
        }
        phase = 'acks';
        await Promise.all(yjs.map((c) => waitAcked(c, 30_000)));
        for (const [client, ids] of sent) {
          await waitFor(
            () =>
              ids.every((op) =>
                client.messages.some(
                  (m) => (m.type === 'edit_ack' && m.operation_id === op) || (m.type === 'error' && m.details?.operation_id === op),
                ),
              ),
            30_000,
            'an answer to every operation',
          );
          // Refusals are only for operations that no longer fit the document.
          for (const m of client.messages) if (m.type === 'error') expect(m.error_code, JSON.stringify(m)).toBe('INVALID_MESSAGE');
        }
        phase = 'converging';
        const same = () => {
          const expected = canonical(documentJsonOf(yjs[0]!.doc));
          return yjs.every((c) => canonical(documentJsonOf(c.doc)) === expected) && json.every((c) => canonical(copyOf(c)) === expected);
        };
        await waitFor(same, 20_000, `convergence (seed ${seed})`);
        phase = 'database';
        const stored = documentJsonOf(await loadFromDatabase(pair.databaseUrl, documentName(id)));
        expect(documentJsonOf(yjs[0]!.doc)).toEqual(stored);
        for (const c of json) expect(copyOf(c)).toEqual(stored);
        const ids = stored.slides.map((s) => s.id);
        expect(new Set(ids).size).toBe(ids.length);
      } finally {
        for (const c of json) c.close();
        for (const c of yjs) c.destroy();
      }
    },
    120_000,
  );
});
