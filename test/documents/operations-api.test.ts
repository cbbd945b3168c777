/**
 * The operations API over HTTP on two instances (one database, Redis between them): batches are atomic and durable
 * when answered, Yjs editors on the other instance see them, the same role and lock rules as /collab apply, bad
 * input is 400 with a code, strangers get 403 / 404, and an old-schema document gets its order keys when it loads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createSlide, documentJsonOf, documentName, getSlides, orderedSlides, slideText } from '../../shared/presentation.js';
import { openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { startPair, type TestPair } from '../helpers/cluster.js';
import { loadFromDatabase, queryDb } from '../helpers/database.js';
import { locksOf } from '../helpers/lock-table.js';
import { mintToken, type TestServer } from '../helpers/server.js';
import { call, createDeck, eventually, getDocument } from './support.js';

describe('operations API', () => {
  let pair: TestPair;
  let a: TestServer;
  let b: TestServer;
  const clients: CollabClient[] = [];
  const editor = (server: TestServer, user: string, id: string) => {
    const c = openClient({ url: server.wsUrl, presentationId: id, token: mintToken(user, { name: user.toUpperCase() }) });
    clients.push(c);
    return c;
  };
  const ops = (id: string, operations: unknown[], who: string | { user: string; scope?: string } = 'olga', server = a) =>
    call(server, 'POST', `/presentations/${id}/operations`, who, { operations });

  beforeAll(async () => {
    pair = await startPair('docops');
    ({ a, b } = pair);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await pair?.close();
  });

  it('applies a batch durably (in Postgres when answered) and a Yjs editor on the other instance sees it', async () => {
    await createDeck(a, 'ops1', 'olga', { ed: 'editor' });
    const yjs = editor(b, 'ed', 'ops1');
    await waitSynced(yjs);
    const res = await ops('ops1', [
      { type: 'add_slide', slide_id: 's1', content: { title: 'Intro', body: 'Hello' } },
      { type: 'add_slide', content: { title: 'Generated id' } },
      { type: 'add_slide', slide_id: 's0', index: 0, content: { title: 'Cover' } },
      { type: 'insert', slide_id: 's1', field: 'body', index: 5, content: { text: ', world' } },
      { type: 'set_meta', key: 'title', value: 'Q3' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.applied).toBe(5);
    expect(res.body.slide_ids).toHaveLength(3);
    const generated = res.body.slide_ids[1] as string;
    expect(generated).toMatch(/^slide-[0-9a-f]+$/);
    const expected = {
      meta: { title: 'Q3' },
      slides: [
        { id: 's0', title: 'Cover', body: '', notes: '' },
        { id: 's1', title: 'Intro', body: 'Hello, world', notes: '' },
        { id: generated, title: 'Generated id', body: '', notes: '' },
      ],
    };
    // Durable when answered: read straight from Postgres, no waiting.
    expect(documentJsonOf(await loadFromDatabase(pair.databaseUrl, documentName('ops1')))).toEqual(expected);
    await waitFor(() => JSON.stringify(documentJsonOf(yjs.doc)) === JSON.stringify(expected), 5000, 'the Yjs editor on B');
    expect(await getDocument(b, 'ops1', 'ed')).toEqual(expected);

    // The Yjs editor's own edit comes back through GET on the other instance.
    slideText(orderedSlides(yjs.doc)[0]!.slide, 'notes').insert(0, 'speaker notes');
    await waitAcked(yjs);
    await eventually(async () => expect((await getDocument(a, 'ops1', 'olga')).slides[0]!.notes).toBe('speaker notes'));
  });

  it('is all or nothing: a batch with one bad operation applies none, 400 names it', async () => {
    await createDeck(a, 'ops2', 'olga');
    expect((await ops('ops2', [{ type: 'add_slide', slide_id: 's1', content: { title: 'keep' } }])).status).toBe(200);
    const rows = async () =>
      (await queryDb(pair.databaseUrl, 'SELECT count(*)::int AS n FROM document_updates WHERE name = $1', [documentName('ops2')]))[0]!.n;
    const before = await rows();
    const bad = await ops('ops2', [
      { type: 'replace', slide_id: 's1', field: 'title', content: { text: 'NOT KEPT' } },
      { type: 'add_slide', slide_id: 's2' },
      { type: 'delete', slide_id: 's1', field: 'title', index: 2, length: 99 },
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ type: 'error', error_code: 'INVALID_MESSAGE', details: { operation_index: 2 } });
    expect(await getDocument(a, 'ops2', 'olga')).toEqual({ meta: {}, slides: [{ id: 's1', title: 'keep', body: '', notes: '' }] });
    expect(await rows()).toBe(before);
    // Malformed input: 400 INVALID_MESSAGE, whatever the shape.
    for (const body of [
      { operations: [] },
      { operations: [{ type: 'explode' }] },
      { operations: [{ type: 'insert', slide_id: 's1', field: 'secret', index: 0, content: { text: 'x' } }] },
      { operations: [{ type: 'insert', slide_id: 's1', field: 'title', index: -1, content: { text: 'x' } }] },
      { operations: [{ type: 'add_slide', slide_id: '../etc' }] },
      { operations: [{ type: 'add_slide', content: { title: 'x'.repeat(100_001) } }] },
      { nope: true },
    ]) {
      const res = await call(a, 'POST', '/presentations/ops2/operations', 'olga', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_MESSAGE');
    }
    expect((await call(a, 'POST', '/presentations/ops2/operations', 'olga', '{"operations": [')).status).toBe(400);
  });

  it('follows roles: viewers and commenters 403, strangers 403, unknown decks 404, service tokens need documents:write', async () => {
    await createDeck(a, 'ops3', 'olga', { cam: 'commenter', vic: 'viewer', ed: 'editor' });
    const add = [{ type: 'add_slide', slide_id: 'x' }];
    for (const who of ['cam', 'vic', 'mallory', { user: 'jobs-worker', scope: 'jobs:write' }]) {
      const res = await ops('ops3', add, who);
      expect(res.status, JSON.stringify(who)).toBe(403);
      expect(res.body.error_code).toBe('PERMISSION_DENIED');
    }
    expect((await call(a, 'GET', '/presentations/ops3/document', 'mallory')).status).toBe(403);
    expect((await call(a, 'GET', '/presentations/ops3/document', 'vic')).status).toBe(200);
    expect((await call(a, 'GET', '/presentations/ops3/document', null)).status).toBe(401);
    expect((await ops('nowhere', add, { user: 'gen', scope: 'documents:write' })).status).toBe(404);
    expect((await call(a, 'GET', '/presentations/nowhere/document', 'olga')).status).toBe(404);
    const worker = await ops('ops3', add, { user: 'gen', scope: 'documents:write' });
    expect(worker.status).toBe(200);
    expect((await call(a, 'GET', '/presentations/ops3/document', { user: 'gen', scope: 'documents:write' })).body.slides).toHaveLength(1);
    expect((await ops('ops3', [{ type: 'add_slide', slide_id: 'y' }], 'ed', b)).status).toBe(200);
    expect((await getDocument(a, 'ops3', 'olga')).slides.map((s) => s.id)).toEqual(['x', 'y']);
  });

  it('refuses LOCKED, applying nothing, what touches a slide another user holds; the holder writes on', async () => {
    await createDeck(a, 'ops4', 'olga', { hana: 'editor', ed: 'editor' });
    expect(
      (
        await ops('ops4', [
          { type: 'add_slide', slide_id: 's1' },
          { type: 'add_slide', slide_id: 's2' },
        ])
      ).status,
    ).toBe(200);
    const holder = editor(b, 'hana', 'ops4');
    await waitSynced(holder);
    holder.provider.sendStateless(JSON.stringify({ type: 'lock_slide', slide_id: 's1' }));
    await waitFor(() => locksOf(holder)?.length === 1, 5000, 'lock taken');
    for (const op of [
      { type: 'insert', slide_id: 's1', field: 'title', index: 0, content: { text: 'x' } },
      { type: 'move_slide', slide_id: 's1', index: 1 },
      { type: 'delete_slide', slide_id: 's1' },
    ]) {
      const res = await ops('ops4', [{ type: 'insert', slide_id: 's2', field: 'title', index: 0, content: { text: 'free' } }, op], 'ed');
      expect(res.status).toBe(423);
      expect(res.body).toMatchObject({ error_code: 'LOCKED', details: { slide_id: 's1', operation_index: 1 } });
      expect(res.body.message).toContain('HANA');
    }
    expect((await getDocument(a, 'ops4', 'ed')).slides.map((s) => [s.id, s.title])).toEqual([
      ['s1', ''],
      ['s2', ''],
    ]);
    expect((await ops('ops4', [{ type: 'insert', slide_id: 's1', field: 'title', index: 0, content: { text: 'mine' } }], 'hana')).status).toBe(200);
    expect((await ops('ops4', [{ type: 'move_slide', slide_id: 's2', index: 0 }], 'ed')).status).toBe(200);
    expect((await getDocument(b, 'ops4', 'ed')).slides.map((s) => [s.id, s.title])).toEqual([
      ['s2', ''],
      ['s1', 'mine'],
    ]);
  });

  it('writes order keys into an old document when it loads, keeping its array order', async () => {
    await createDeck(a, 'legacy', 'olga');
    const old = new Y.Doc();
    getSlides(old).push(['c', 'a', 'b'].map((id) => createSlide({ id, title: `title ${id}` })));
    await queryDb(pair.databaseUrl, 'INSERT INTO document_updates (name, update) VALUES ($1, $2)', [
      documentName('legacy'),
      Buffer.from(Y.encodeStateAsUpdate(old)),
    ]);
    expect((await getDocument(b, 'legacy', 'olga')).slides.map((s) => s.id)).toEqual(['c', 'a', 'b']);
    const stored = await loadFromDatabase(pair.databaseUrl, documentName('legacy'));
    const slides = orderedSlides(stored);
    expect(slides.map((s) => s.id)).toEqual(['c', 'a', 'b']);
    expect(slides.every((s) => !s.derived && typeof s.slide.get('order') === 'string')).toBe(true);
    // Now a move is a key change, and the order survives a reload.
    expect((await ops('legacy', [{ type: 'move_slide', slide_id: 'c', index: 2 }])).status).toBe(200);
    expect(orderedSlides(await loadFromDatabase(pair.databaseUrl, documentName('legacy'))).map((s) => s.id)).toEqual(['a', 'b', 'c']);
  });
});
