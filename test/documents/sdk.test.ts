/**
 * The SDK's side of the documents feature, through the SDK itself against a real server: the operations API
 * (`client.operations`) and the JSON presentation (`client.openJsonPresentation`): a JSON copy that follows a Yjs
 * editor, operations that resolve once stored or reject with the refusal, and a dropped connection that reconnects
 * and resynchronizes from the fresh `connected` document. Also the Yjs SDK's Slides.move (order keys).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createDeckhandClient, DeckhandError, type DeckhandClient } from '../../client/index.js';
import { documentJsonOf, findSlide, slideText } from '../../shared/presentation.js';
import { openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { createDeck } from './support.js';

describe('SDK: operations and the JSON presentation', () => {
  let server: TestServer;
  const clients: DeckhandClient[] = [];
  const editors: CollabClient[] = [];
  const sdk = (user: string, scope?: string) => {
    const client = createDeckhandClient({
      url: server.url,
      token: () => mintToken(user, { name: user.toUpperCase(), scope }),
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      reconnect: { minDelayMs: 50, maxDelayMs: 200 },
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('docsdk') });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const e of editors) e.destroy();
    await server?.close();
  });

  it('a worker writes through client.operations; a JSON presentation follows every change and reconnects', async () => {
    await createDeck(server, 'sdk1', 'olga', { ed: 'editor', jo: 'editor' });
    const worker = sdk('generator', 'documents:write');
    const batch = await worker.operations.apply('sdk1', [
      { type: 'set_meta', key: 'title', value: 'Launch' },
      { type: 'add_slide', content: { title: 'Why', body: 'Because' } },
    ]);
    expect(batch.applied).toBe(2);
    const [generated] = batch.slide_ids;
    expect((await worker.operations.get('sdk1')).slides).toEqual([{ id: generated, title: 'Why', body: 'Because', notes: '' }]);

    const jo = sdk('jo').openJsonPresentation('sdk1');
    await jo.whenReady();
    expect(jo.document).toEqual({ meta: { title: 'Launch' }, slides: [{ id: generated, title: 'Why', body: 'Because', notes: '' }] });
    const ed = openClient({ url: server.wsUrl, presentationId: 'sdk1', token: mintToken('ed', { name: 'ED' }) });
    editors.push(ed);
    await waitSynced(ed);
    ed.provider.awareness!.setLocalStateField('presence', { slide_id: generated, status: 'active' });
    await waitFor(() => jo.present.some((u) => u.user_id === 'ed' && u.slide_id === generated), 5000, 'ed present');

    // Its own operation: resolved once stored, applied to the copy from the server's echo.
    await jo.apply({ type: 'insert', slide_id: generated!, field: 'body', index: 7, content: { text: ' we can' } });
    expect(jo.document!.slides[0]!.body).toBe('Because we can');
    // A Yjs editor's typing reaches the copy.
    slideText(findSlide(ed.doc, generated!)!, 'notes').insert(0, 'from the editor');
    await waitAcked(ed);
    await waitFor(() => jo.document!.slides[0]!.notes === 'from the editor', 5000, 'the editor’s notes');
    // A refusal rejects, and nothing is applied.
    ed.provider.sendStateless(JSON.stringify({ type: 'lock_slide', slide_id: generated }));
    await waitFor(() => jo.locks.some((l) => l.slide_id === generated), 5000, 'the lock seen');
    const refused = await jo.apply({ type: 'replace', slide_id: generated!, field: 'title', content: { text: 'NO' } }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(DeckhandError);
    expect((refused as DeckhandError).code).toBe('LOCKED');
    expect(jo.document!.slides[0]!.title).toBe('Why');

    // The connection drops; meanwhile the document changes; the copy comes back equal.
    const statuses: string[] = [];
    jo.onStatus((s) => statuses.push(s));
    for (const socket of server.app.websocketServer.clients) if (!server.app.deckhand.collab.sockets.has(socket)) socket.terminate();
    await waitFor(() => statuses.includes('disconnected'), 5000, 'disconnected');
    await worker.operations.apply('sdk1', [{ type: 'add_slide', slide_id: 'while-away', content: { title: 'added while away' } }]);
    await waitFor(() => jo.status === 'connected' && jo.document?.slides.length === 2, 10_000, 'reconnected and resynchronized');
    expect(jo.document).toEqual(documentJsonOf(ed.doc));
    await jo.apply({ type: 'move_slide', slide_id: 'while-away', index: 0 });
    await waitFor(() => documentJsonOf(ed.doc).slides[0]?.id === 'while-away', 5000, 'the move on the Yjs side');
    jo.close();
  });

  it('Slides.move of the Yjs SDK sets the order key: the list, the JSON view and the other editors agree', async () => {
    await createDeck(server, 'sdk2', 'olga');
    const owner = sdk('olga');
    const session = owner.openPresentation('sdk2');
    await session.whenSynced();
    for (const id of ['a', 'b', 'c']) session.slides.add({ id, title: id });
    expect(session.slides.move('a', 2)).toBe(true);
    expect(session.slides.list().map((s) => s.id)).toEqual(['b', 'c', 'a']);
    await waitFor(() => session.state.unsyncedChanges === 0, 5000, 'acks');
    expect((await owner.operations.get('sdk2')).slides.map((s) => s.id)).toEqual(['b', 'c', 'a']);
    session.close();
  });
});
