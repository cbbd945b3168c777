/**
 * The JSON collaboration socket paired with real Yjs editors (@hocuspocus/provider) on two instances: edits both
 * ways (a JSON copy that applies every edit_operation equals the Yjs document), acks after the echo, locks both ways,
 * roles, presence and cursors both ways, disconnects (user_left, awareness removed, locks released), revocation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Awareness } from 'y-protocols/awareness';
import { applyOperation, type DocumentJson } from '../../shared/document-json.js';
import { documentJsonOf, findSlide, moveSlide, orderedSlides, slideText } from '../../shared/presentation.js';
import { Presence } from '../../client/presentation/presence.js';
import { openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { startPair, type TestPair } from '../helpers/cluster.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { locksOf } from '../helpers/lock-table.js';
import { awarenessFrame, awarenessUpdate } from '../helpers/hocuspocus-frames.js';
import { openRawWriter } from '../helpers/raw-writer.js';
import { mintToken, type TestServer } from '../helpers/server.js';
import { call, collabSocketUrl, createDeck, openJsonCollab } from './support.js';

/** A JSON client's copy of the document, kept by applying every edit_operation it receives. */
function copyOf(client: JsonWsClient): DocumentJson {
  const connected = client.messages.find((m) => m.type === 'connected');
  const copy = JSON.parse(JSON.stringify(connected.document)) as DocumentJson;
  for (const m of client.messages) if (m.type === 'edit_operation') applyOperation(copy, m.operation);
  return copy;
}

const errorsOf = (client: JsonWsClient, code: string) => client.messages.filter((m) => m.type === 'error' && m.error_code === code);

describe('JSON collaboration socket', () => {
  let pair: TestPair;
  let a: TestServer;
  let b: TestServer;
  const yjsClients: CollabClient[] = [];
  const jsonClients: JsonWsClient[] = [];
  const editor = (server: TestServer, user: string, id: string) => {
    const c = openClient({ url: server.wsUrl, presentationId: id, token: mintToken(user, { name: user.toUpperCase() }) });
    yjsClients.push(c);
    return c;
  };
  const json = async (server: TestServer, id: string, user: string, options: { scope?: string } = {}) => {
    const c = await openJsonCollab(server, id, user, options);
    jsonClients.push(c);
    return c;
  };
  const sameAsYjs = (client: JsonWsClient, yjs: CollabClient) => JSON.stringify(copyOf(client)) === JSON.stringify(documentJsonOf(yjs.doc));

  beforeAll(async () => {
    pair = await startPair('docsock', { WEBSOCKET_MAX_CONNECTIONS_PER_USER: '20' });
    ({ a, b } = pair);
  });
  afterAll(async () => {
    for (const c of jsonClients) c.close();
    for (const c of yjsClients) c.destroy();
    await pair?.close();
  });

  it('edits cross both ways: JSON operations reach Yjs editors, Yjs edits reach the JSON copy as operations', async () => {
    await createDeck(a, 'sock1', 'olga', { ed: 'editor', jo: 'editor' });
    expect(
      (
        await call(a, 'POST', '/presentations/sock1/operations', 'olga', {
          operations: [{ type: 'add_slide', slide_id: 's1', content: { title: 'Hello' } }],
        })
      ).status,
    ).toBe(200);
    const yjsA = editor(a, 'ed', 'sock1');
    const yjsB = editor(b, 'ed', 'sock1');
    await Promise.all([waitSynced(yjsA), waitSynced(yjsB)]);
    const jo = await json(a, 'sock1', 'jo');
    const connected = jo.messages.find((m) => m.type === 'connected');
    expect(connected).toMatchObject({
      presentation_id: 'sock1',
      user_id: 'jo',
      role: 'editor',
      document: { meta: {}, slides: [{ id: 's1', title: 'Hello', body: '', notes: '' }] },
      locks: [],
    });
    expect(typeof connected.timestamp).toBe('string');

    // JSON → Yjs (both instances), with the echo first and the ack once stored.
    jo.send({
      type: 'edit_operation',
      operation: { type: 'insert', operation_id: 'op-1', slide_id: 's1', field: 'title', index: 5, content: { text: ', world' } },
    });
    const echo = await jo.waitFor((m) => m.type === 'edit_operation' && m.operation_id === 'op-1', 5000, 'echo');
    expect(echo).toMatchObject({
      user_id: 'jo',
      operation: { type: 'insert', slide_id: 's1', field: 'title', index: 5, content: { text: ', world' } },
    });
    const ack = await jo.waitFor((m) => m.type === 'edit_ack' && m.operation_id === 'op-1', 5000, 'ack');
    expect(jo.messages.indexOf(ack)).toBeGreaterThan(jo.messages.indexOf(echo));
    for (const c of [yjsA, yjsB]) await waitFor(() => slideText(findSlide(c.doc, 's1')!, 'title').toString() === 'Hello, world', 5000, 'Yjs editors');
    jo.send({
      type: 'edit_operation',
      operation: { type: 'add_slide', operation_id: 'op-2', slide_id: 's0', index: 0, content: { title: 'Cover' } },
    });
    jo.send({ type: 'edit_operation', operation: { type: 'move_slide', operation_id: 'op-3', slide_id: 's0', index: 1 } });
    await jo.waitFor((m) => m.type === 'edit_ack' && m.operation_id === 'op-3', 5000, 'ack 3');
    await waitFor(() => sameAsYjs(jo, yjsB), 5000, 'the new slide on the other instance');

    // Yjs (on the other instance) → JSON: typing, a new slide, a move, a delete, meta.
    const title = slideText(findSlide(yjsB.doc, 's1')!, 'title');
    title.insert(0, '>> ');
    title.delete(title.length - 1, 1);
    slideText(findSlide(yjsB.doc, 's0')!, 'notes').insert(0, 'notes from Yjs');
    yjsB.doc.getMap('meta').set('theme', 'dark');
    await waitAcked(yjsB);
    await waitFor(() => sameAsYjs(jo, yjsB), 5000, 'the JSON copy equal to the Yjs document');
    // Through the other instance the author is not known (user_id null); on this one it is.
    const fromYjs = jo.messages.filter((m) => m.type === 'edit_operation' && m.operation_id === undefined);
    expect(fromYjs.map((m) => m.operation.type)).toEqual(expect.arrayContaining(['insert', 'delete', 'set_meta']));
    await waitFor(() => sameAsYjs(jo, yjsA), 5000, 'the Yjs editor on A in step');
    slideText(findSlide(yjsA.doc, 's0')!, 'body').insert(0, 'b');
    await jo.waitFor((m) => m.type === 'edit_operation' && m.user_id === 'ed' && m.operation.field === 'body', 5000, 'an attributed edit');
    await waitFor(() => sameAsYjs(jo, yjsA), 5000, 'equal again');
    expect(copyOf(jo)).toEqual({
      meta: { theme: 'dark' },
      slides: [
        { id: 's1', title: '>> Hello, worl', body: '', notes: '' },
        { id: 's0', title: 'Cover', body: 'b', notes: 'notes from Yjs' },
      ],
    });
  });

  it('follows the lock rules both ways and releases a JSON client’s locks when it leaves', async () => {
    await createDeck(a, 'sock2', 'olga', { hana: 'editor', jo: 'editor', ivan: 'editor' });
    await call(a, 'POST', '/presentations/sock2/operations', 'olga', {
      operations: [
        { type: 'add_slide', slide_id: 's1' },
        { type: 'add_slide', slide_id: 's2' },
      ],
    });
    const hana = editor(b, 'hana', 'sock2');
    await waitSynced(hana);
    const jo = await json(a, 'sock2', 'jo');
    hana.provider.sendStateless(JSON.stringify({ type: 'lock_slide', slide_id: 's1' }));
    await jo.waitFor((m) => m.type === 'locks' && m.locks.some((l: { slide_id: string }) => l.slide_id === 's1'), 5000, 'locks message');
    jo.send({ type: 'edit_operation', operation: { type: 'replace', operation_id: 'x', slide_id: 's1', field: 'title', content: { text: 'NO' } } });
    const locked = await jo.waitFor((m) => m.type === 'error' && m.error_code === 'LOCKED', 5000, 'LOCKED');
    expect(locked.details).toMatchObject({ slide_id: 's1', operation_id: 'x' });
    expect(locked.message).toContain('HANA');
    expect(jo.messages.some((m) => m.type === 'edit_ack' && m.operation_id === 'x')).toBe(false);

    // The JSON client locks s2: the Yjs editor sees it (locks_changed), and its edit there is refused and undone.
    jo.send({ type: 'lock_slide', slide_id: 's2' });
    await waitFor(() => locksOf(hana)?.some((l) => l.slide_id === 's2' && l.user_id === 'jo') === true, 5000, 'hana sees the lock');
    slideText(findSlide(hana.doc, 's2')!, 'title').insert(0, 'INTRUDER');
    await waitFor(() => hana.stateless.some((m) => (m as { error_code?: string }).error_code === 'LOCKED'), 5000, 'hana refused');
    await waitFor(() => slideText(findSlide(hana.doc, 's2')!, 'title').toString() === '', 5000, 'rolled back');
    jo.send({ type: 'lock_slide', slide_id: 's1' });
    await jo.waitFor(
      (m) => m.type === 'error' && m.error_code === 'LOCKED' && m.details?.slide_id === 's1' && m.details?.holder,
      5000,
      'lock refused',
    );
    jo.send({ type: 'lock_slide', slide_id: 'ghost' });
    await jo.waitFor((m) => m.type === 'error' && m.error_code === 'NOT_FOUND', 5000, 'no such slide');

    // A Yjs editor moving a slide someone else holds edits that slide (its order key): the guard refuses it.
    const ivan = editor(a, 'ivan', 'sock2');
    await waitSynced(ivan);
    await waitFor(() => locksOf(ivan)?.some((l) => l.slide_id === 's1') === true, 5000, 'ivan sees the lock');
    moveSlide(ivan.doc, 's1', 1);
    await waitFor(() => ivan.stateless.some((m) => (m as { error_code?: string }).error_code === 'LOCKED'), 5000, 'ivan refused');
    await waitFor(
      () =>
        orderedSlides(ivan.doc)
          .map((s) => s.id)
          .join() === 's1,s2',
      5000,
      'the move rolled back',
    );
    await waitFor(
      () =>
        copyOf(jo)
          .slides.map((s) => s.id)
          .join() === 's1,s2',
      5000,
      'the JSON copy back in order',
    );

    jo.close();
    await waitFor(() => locksOf(hana)?.some((l) => l.slide_id === 's2') === false, 5000, 'released on disconnect');
    expect(copyOf(jo).slides.map((s) => s.title)).toEqual(['', '']);
  });

  it('follows roles: viewers read, commenters and viewers may not edit or lock, strangers and revoked users are shut out', async () => {
    await createDeck(a, 'sock3', 'olga', { vic: 'viewer', cam: 'commenter', jo: 'editor' });
    await call(a, 'POST', '/presentations/sock3/operations', 'olga', {
      operations: [{ type: 'add_slide', slide_id: 's1', content: { title: 'read me' } }],
    });
    for (const user of ['vic', 'cam']) {
      const c = await json(b, 'sock3', user);
      expect(c.messages[0]).toMatchObject({ type: 'connected', document: { slides: [{ id: 's1', title: 'read me' }] } });
      c.send({ type: 'edit_operation', operation: { type: 'insert', slide_id: 's1', field: 'title', index: 0, content: { text: 'x' } } });
      c.send({ type: 'lock_slide', slide_id: 's1' });
      await c.waitFor(() => errorsOf(c, 'PERMISSION_DENIED').length === 2, 5000, 'two refusals');
    }
    const stranger = await openJsonWs(collabSocketUrl(a, 'sock3', mintToken('mallory')));
    expect((await stranger.closed).code).toBe(4403);
    expect(stranger.messages[0]).toMatchObject({ type: 'error', error_code: 'PERMISSION_DENIED' });
    const nowhere = await openJsonWs(collabSocketUrl(a, 'no-such-deck', mintToken('gen', { scope: 'documents:write' })));
    expect((await nowhere.closed).code).toBe(4404);
    const badToken = await openJsonWs(collabSocketUrl(a, 'sock3', mintToken('jo', { secret: 'wrong-secret-wrong-secret-wrong!!' })));
    expect((await badToken.closed).code).toBe(4401);

    // Revocation reaches the open socket on the other instance.
    const jo = await json(b, 'sock3', 'jo');
    expect((await call(a, 'DELETE', '/presentations/sock3/members/jo', 'olga')).status).toBe(204);
    expect((await jo.closed).code).toBe(4403);
    expect(errorsOf(jo, 'PERMISSION_DENIED')).toHaveLength(1);
    expect((await call(a, 'GET', '/presentations/sock3/document', 'olga')).body.slides[0].title).toBe('read me');
  });

  it('carries presence and cursors both ways; a JSON client that leaves is gone from the awareness', async () => {
    await createDeck(a, 'sock4', 'olga', { ed: 'editor', jo: 'editor', kim: 'editor' });
    await call(a, 'POST', '/presentations/sock4/operations', 'olga', {
      operations: [{ type: 'add_slide', slide_id: 's1', content: { title: 'abcdef' } }],
    });
    const ed = editor(a, 'ed', 'sock4');
    await waitSynced(ed);
    const edPresence = new Presence(ed.provider.awareness as Awareness);
    edPresence.setSlide('s1');
    // The server has ed's state on s1 before jo's socket reads the room (else jo's first message may predate it).
    const serverStates = () => [...(a.app.deckhand.collab.hocuspocus.documents.get('presentation:sock4')?.awareness.getStates().values() ?? [])];
    await waitFor(() => serverStates().some((st) => st.user?.id === 'ed' && JSON.stringify(st).includes('"s1"')), 5000, 'ed on s1 on the server');
    const jo = await json(a, 'sock4', 'jo');
    expect(jo.messages[0].users).toEqual(
      expect.arrayContaining([expect.objectContaining({ user_id: 'ed', user_name: 'ED', slide_id: 's1', status: 'active' })]),
    );
    const kim = await json(a, 'sock4', 'kim');
    await jo.waitFor((m) => m.type === 'user_joined' && m.user_id === 'kim', 5000, 'kim joined');

    // JSON → Yjs: presence and a caret, stamped with the token's user.
    jo.send({ type: 'presence_update', slide_id: 's1', status: 'idle' });
    jo.send({ type: 'cursor_update', slide_id: 's1', field: 'title', index: 3 });
    await waitFor(
      () => edPresence.others().some((p) => p.user.id === 'jo' && p.user.name === 'JO' && p.slideId === 's1' && p.status === 'idle'),
      5000,
      'jo in the awareness',
    );
    const joPeer = () => edPresence.others().find((p) => p.user.id === 'jo')!;
    await waitFor(() => edPresence.cursorIn(joPeer(), slideText(findSlide(ed.doc, 's1')!, 'title'))?.head === 3, 5000, 'jo’s caret');
    await kim.waitFor((m) => m.type === 'presence_update' && m.user_id === 'jo' && m.status === 'idle', 5000, 'kim sees jo idle');

    // Yjs → JSON: a caret in the title.
    edPresence.setCursor(slideText(findSlide(ed.doc, 's1')!, 'title'), 2);
    await jo.waitFor(
      (m) => m.type === 'cursor_update' && m.user_id === 'ed' && m.slide_id === 's1' && m.field === 'title' && m.index === 2,
      5000,
      'ed’s caret',
    );

    // Leaving: gone from the awareness, user_left to the other JSON client; the Yjs editor leaving likewise.
    jo.close();
    await waitFor(() => !edPresence.others().some((p) => p.user.id === 'jo'), 5000, 'jo gone from the awareness');
    await kim.waitFor((m) => m.type === 'user_left' && m.user_id === 'jo', 5000, 'user_left jo');
    ed.destroy();
    await kim.waitFor((m) => m.type === 'user_left' && m.user_id === 'ed', 10_000, 'user_left ed');
    edPresence.dispose();
  });

  it("a Yjs connection cannot take over a JSON client's awareness id: its state under it is dropped, on the JSON client's instance and on another", async () => {
    await createDeck(a, 'sock7', 'olga', { ed: 'editor', jo: 'editor', vic: 'viewer' });
    await call(a, 'POST', '/presentations/sock7/operations', 'olga', {
      operations: [{ type: 'add_slide', slide_id: 's1', content: { title: 'abcdef' } }],
    });
    const ed = editor(a, 'ed', 'sock7');
    await waitSynced(ed);
    const states = () => (ed.provider.awareness as Awareness).getStates() as Map<number, { user?: { id: string }; presence?: unknown }>;
    const jo = await json(a, 'sock7', 'jo');
    jo.send({ type: 'presence_update', slide_id: 's1', status: 'idle' });
    await waitFor(() => [...states().values()].some((s) => s.user?.id === 'jo'), 5000, 'jo in the awareness');
    const joId = [...states()].find(([, s]) => s.user?.id === 'jo')![0];
    // A viewer sends a state under jo's id, with a clock far ahead (jo's renewals would never replace it), on jo's
    // instance and on the other one; then a state under its own id, which shows its frames were handled.
    for (const [server, ownId] of [
      [a, 9001],
      [b, 9002],
    ] as const) {
      const vic = await openRawWriter(server.wsUrl, 'sock7', mintToken('vic'));
      vic.raw.send(awarenessFrame('presentation:sock7', awarenessUpdate(joId, { presence: { slide_id: null, status: 'away' } }, 1_000)));
      vic.raw.send(awarenessFrame('presentation:sock7', awarenessUpdate(ownId, { presence: 'here' })));
      await waitFor(() => states().get(ownId)?.user?.id === 'vic', 5000, `vic's own state via ${server === a ? 'a' : 'b'}`);
      expect(states().get(joId)?.user?.id, "the state under jo's id").toBe('jo');
    }
    jo.send({ type: 'presence_update', slide_id: 's1', status: 'away' });
    await waitFor(() => (states().get(joId)?.presence as { status?: string } | undefined)?.status === 'away', 5000, "jo's later presence");
    expect(states().get(joId)?.user?.id).toBe('jo');
  });

  it('shows a JSON client to Yjs editors on another instance, also when its own instance has no Yjs connection', async () => {
    await createDeck(a, 'sock5', 'olga', { ed: 'editor', jo: 'editor' });
    await call(a, 'POST', '/presentations/sock5/operations', 'olga', {
      operations: [{ type: 'add_slide', slide_id: 's1', content: { title: 'abcdef' } }],
    });
    const ed = editor(b, 'ed', 'sock5');
    await waitSynced(ed);
    const edPresence = new Presence(ed.provider.awareness as Awareness);
    const jo = await json(a, 'sock5', 'jo');
    jo.send({ type: 'presence_update', slide_id: 's1', status: 'away' });
    await waitFor(
      () => edPresence.others().some((p) => p.user.id === 'jo' && p.slideId === 's1' && p.status === 'away'),
      5000,
      'jo seen on the other instance',
    );
    jo.close();
    await waitFor(() => !edPresence.others().some((p) => p.user.id === 'jo'), 5000, 'jo gone on the other instance');
    edPresence.dispose();
  });

  it('closes the JSON sockets of a deleted presentation on every instance with NOT_FOUND (4404)', async () => {
    await createDeck(a, 'sock6', 'olga', { jo: 'editor' });
    const member = await json(b, 'sock6', 'jo');
    const worker = await json(a, 'sock6', 'gen', { scope: 'documents:write' });
    expect((await call(a, 'DELETE', '/presentations/sock6', 'olga')).status).toBe(204);
    for (const client of [member, worker]) {
      expect((await client.closed).code).toBe(4404);
      expect(client.messages.some((m) => m.type === 'error' && m.error_code === 'NOT_FOUND')).toBe(true);
    }
  });
});
