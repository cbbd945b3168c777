/**
 * Attacks on the acknowledgement gate (issue #13): a SyncStatus must never reach a client for something Postgres
 * does not hold yet. The update log is held back row by row in real Postgres (test/helpers/append-hold.ts), so
 * "one append committed, the next one not yet" is a state the test holds open.
 */
import { HocuspocusProvider } from '@hocuspocus/provider';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { findSlide, insertSlide, slideText } from '../../shared/presentation.js';
import { openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase, loadFromDatabase } from '../helpers/database.js';
import { blockAllAppends, heldAppends, holdAppendsContaining, untilAsync } from '../helpers/append-hold.js';
import { createDeck } from '../helpers/deck.js';
import { editOf, errorsOf, openRawWriter } from '../helpers/raw-writer.js';
import { authFrame, MessageType, rawClient, syncFrame, typeOf } from '../helpers/hocuspocus-frames.js';
import { isCollabContext } from '../../server/collab/context.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';

const bodyOf = (doc: Y.Doc, slideId: string) => {
  const slide = findSlide(doc, slideId);
  return slide ? slideText(slide, 'body').toString() : '';
};

const write = (doc: Y.Doc, slideId: string, token: string) => {
  slideText(findSlide(doc, slideId)!, 'body').insert(0, token);
};

async function storedBody(databaseUrl: string, presentationId: string, slideId: string): Promise<string> {
  const doc = await loadFromDatabase(databaseUrl, `presentation:${presentationId}`);
  return bodyOf(doc, slideId);
}

describe('ack gate: no SyncStatus for what is not stored', () => {
  const clients: CollabClient[] = [];
  const servers: TestServer[] = [];
  const releases: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const release of releases) await release().catch(() => {});
    for (const s of servers) await s.close();
  });

  it('an ack held for a document connection the provider closed is not delivered to the provider that re-opens the document on the same socket', async () => {
    const databaseUrl = await createTestDatabase('ackstale');
    const server = await startServer({ DATABASE_URL: databaseUrl });
    servers.push(server);
    const { collab } = server.app.deckhand;
    const a = openClient({ url: server.wsUrl, presentationId: 'stale', token: mintToken('ada') });
    const b = openClient({ url: server.wsUrl, presentationId: 'stale', token: mintToken('ada') });
    clients.push(a, b);
    await Promise.all([waitSynced(a), waitSynced(b)]);
    insertSlide(a.doc, { id: 's', title: 'slide' });
    await waitAcked(a);
    await waitFor(() => findSlide(b.doc, 's') !== undefined, 10_000, 'the slide on the peer');

    const releaseFirst = await holdAppendsContaining(databaseUrl, '<first>');
    const releaseSecond = await holdAppendsContaining(databaseUrl, '<second>');
    releases.push(releaseFirst, releaseSecond);
    write(a.doc, 's', '<first>');
    await untilAsync(async () => (await heldAppends(databaseUrl)) === 1, 'the first append to wait');
    expect(a.provider.hasUnsyncedChanges).toBe(true);

    // The provider goes away (a Close message for the document; the shared socket stays open), the user edits on,
    // and a new provider opens the document again on the same socket (an editor view re-mounted).
    a.provider.destroy();
    await waitFor(() => collab.connectionsOf('stale').length === 1, 10_000, 'the document connection closed');
    write(a.doc, 's', '<second>');
    const stateless: string[] = [];
    const again = new HocuspocusProvider({
      websocketProvider: a.socket,
      name: 'presentation:stale',
      document: a.doc,
      token: mintToken('ada'),
      onStateless: ({ payload }) => stateless.push(payload),
    });
    again.attach();
    await waitFor(() => bodyOf(b.doc, 's') === '<second><first>', 10_000, 'the second edit on the peer');
    expect(again.hasUnsyncedChanges).toBe(true);

    // The first append commits; the second still waits.
    const appended = collab.updateLog.stats.appended;
    await releaseFirst();
    await waitFor(() => collab.updateLog.stats.appended > appended, 10_000, 'the first append committed');
    await untilAsync(async () => (await heldAppends(databaseUrl)) === 1, 'the second append to wait');
    // A round trip on the socket: whatever the server sent when the first append committed has arrived.
    again.sendStateless(JSON.stringify({ type: 'lock_slide', slide_id: 'no-such-slide' }));
    await waitFor(() => stateless.some((p) => p.includes('NOT_FOUND')), 10_000, 'the answer to the round trip');

    expect(await storedBody(databaseUrl, 'stale', 's')).toBe('<first>');
    // Not acknowledged: <second> is not stored.
    expect(again.hasUnsyncedChanges).toBe(true);

    await releaseSecond();
    await waitFor(() => !again.hasUnsyncedChanges, 10_000, 'the ack of the second edit');
    expect(await storedBody(databaseUrl, 'stale', 's')).toBe('<second><first>');
    again.destroy();
  });

  it('a member removed while its updates wait for acks (flow control) gets none of them applied or stored after the removal', async () => {
    const databaseUrl = await createTestDatabase('ackrevoke');
    const server = await startServer({ DATABASE_URL: databaseUrl, COLLAB_MAX_FRAME_BYTES: '16384', COLLAB_MAX_INFLIGHT_BYTES: '32768' });
    servers.push(server);
    const { collab } = server.app.deckhand;
    const { owner } = await createDeck(server, 'revoke', ['s1'], { eve: 'editor' }, clients);
    const eve = await openRawWriter(server.wsUrl, 'revoke', mintToken('eve'));
    const eveConnection = collab.connectionsOf('revoke').find((c) => isCollabContext(c.context) && c.context.principal.userId === 'eve');
    expect(eveConnection).toBeDefined();

    const unblock = await blockAllAppends(databaseUrl);
    releases.push(unblock);
    // Four updates of ~12 KB: the fourth waits (flow control) until the first ones are acknowledged.
    const updates: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) {
      const marker = i === 3 ? '<after-removal>' : `<before-${i}>`;
      updates.push(editOf(docOf(owner.doc, updates), (doc) => write(doc, 's1', marker + 'x'.repeat(12_000))));
    }
    // One at a time (frames waiting to be handled count against the socket's budget too).
    const accepted = collab.writePath.stats.accepted;
    for (const [i, update] of updates.entries()) {
      eve.send(update);
      if (i < 3) await waitFor(() => collab.writePath.stats.accepted === accepted + i + 1, 10_000, `update ${i} handled`);
    }
    await waitFor(() => collab.writePath.stats.throttled > 0, 10_000, 'the fourth update waiting for acks');

    const del = await fetch(`${server.url}/api/v1/presentations/revoke/members/eve`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${mintToken('olga')}` },
    });
    expect(del.status).toBe(204);
    await eve.until(() => errorsOf(eve.stateless, 'PERMISSION_DENIED').length > 0, 'the revocation');

    await unblock();
    // Eve's document connection has handled (or dropped) every frame it had; the log has written what it took.
    await eveConnection!.waitForPendingMessages();
    await waitFor(() => collab.updateLog.pending === 0, 10_000, 'the log drained');
    insertSlide(owner.doc, { id: 'sentinel' });
    await waitAcked(owner);

    expect(bodyOf(owner.doc, 's1')).not.toContain('<after-removal>');
    const stored = await storedBody(databaseUrl, 'revoke', 's1');
    expect(stored).toContain('<before-2>');
    expect(stored).not.toContain('<after-removal>');
  });

  it('while the log is stalled, the acks a connection has waiting are bounded by its byte budget, empty updates and a viewer’s refused updates included', async () => {
    const databaseUrl = await createTestDatabase('ackflood');
    const budget = 16_384;
    const server = await startServer({ DATABASE_URL: databaseUrl, COLLAB_MAX_FRAME_BYTES: '8192', COLLAB_MAX_INFLIGHT_BYTES: String(budget) });
    servers.push(server);
    const { collab } = server.app.deckhand;
    const { owner } = await createDeck(server, 'flood', ['s1'], { eve: 'editor', vic: 'viewer' }, clients);
    const eve = await openRawWriter(server.wsUrl, 'flood', mintToken('eve'));
    const vic = await openRawWriter(server.wsUrl, 'flood', mintToken('vic'));

    const unblock = await blockAllAppends(databaseUrl);
    releases.push(unblock);
    write(owner.doc, 's1', '<pending>');
    await untilAsync(async () => (await heldAppends(databaseUrl, true)) > 0, 'the append to wait');

    // Rounds of small frames, each round under the socket's frame budget, each closed by a stateless request
    // whose answer shows the round was handled; until the server stops taking them (flow control holds the
    // connection, or its socket is closed).
    const viewerEdit = editOf(owner.doc, (doc) => write(doc, 's1', 'v'));
    const flood = async (writer: typeof eve, frame: Uint8Array) => {
      const throttled = collab.writePath.stats.throttled;
      const stopped = () => writer.raw.ws.readyState !== 1 || collab.writePath.stats.throttled > throttled;
      for (let round = 0; round < 10 && !stopped(); round++) {
        for (let i = 0; i < 300; i++) writer.send(frame);
        const answers = writer.stateless.length;
        writer.sendStateless(JSON.stringify({ type: 'lock_slide', slide_id: 'no-such-slide' }));
        await writer.until(() => writer.stateless.length > answers || stopped(), `round ${round} handled`, 10_000);
      }
    };
    await flood(eve, new Uint8Array([0, 0]));
    await flood(vic, viewerEdit);

    // 6,000 acks asked for: what is held must be bounded by the budgets (64 bytes an ack is generous).
    expect(collab.ackGate.waiting).toBeLessThanOrEqual((2 * budget) / 64);
    // The attackers leave (and could come back on new sockets, with new budgets): what was held for them goes at
    // once, not when the oldest ack times out (30 s), while the owner's ack still waits.
    eve.raw.ws.close();
    vic.raw.ws.close();
    await waitFor(() => collab.ackGate.waiting === 1, 5000, 'the held acks of closed sockets dropped');

    await unblock();
    await waitAcked(owner);
    expect(await storedBody(databaseUrl, 'flood', 's1')).toBe('<pending>');
  });

  it('documents multiplexed on one socket share its byte budget for updates waiting for acks', async () => {
    const databaseUrl = await createTestDatabase('ackmux');
    const budget = 32_768;
    const server = await startServer({ DATABASE_URL: databaseUrl, COLLAB_MAX_FRAME_BYTES: '16384', COLLAB_MAX_INFLIGHT_BYTES: String(budget) });
    servers.push(server);
    const { collab } = server.app.deckhand;
    const names = [0, 1, 2, 3].map((i) => `presentation:mux${i}`);
    const raw = await rawClient(server.wsUrl);
    for (const name of names) raw.send(authFrame(name, mintToken('ada')));
    await waitFor(() => raw.received.filter((m) => typeOf(m) === MessageType.Auth).length === names.length, 10_000, 'every document authenticated');

    const unblock = await blockAllAppends(databaseUrl);
    releases.push(unblock);
    const { accepted, throttled } = collab.writePath.stats;
    // Three updates of ~12 KB per document, each sent once the one before was taken, until the server makes the
    // socket wait.
    const bigSlide = (id: string) => editOf(new Y.Doc(), (doc) => insertSlide(doc, { id, title: 'x'.repeat(12_000) }));
    sending: for (const name of names) {
      for (let i = 0; i < 3; i++) {
        const taken = collab.writePath.stats.accepted;
        raw.send(syncFrame(name, 2, bigSlide(`${name}-${i}`)));
        await waitFor(
          () => collab.writePath.stats.accepted > taken || collab.writePath.stats.throttled > throttled,
          10_000,
          'the update taken or held',
        );
        if (collab.writePath.stats.throttled > throttled) break sending;
      }
    }
    // What one socket has waiting for acks is bounded by its budget (plus the update that passed it).
    expect((collab.writePath.stats.accepted - accepted) * 12_000).toBeLessThanOrEqual(budget + 12_000);
    raw.ws.close();
    await unblock();
  });

  it('a provider that re-syncs (forceSyncInterval) while acks are held is not told it is synced before its edits are stored', async () => {
    const databaseUrl = await createTestDatabase('ackforce');
    const server = await startServer({ DATABASE_URL: databaseUrl });
    servers.push(server);
    const { collab } = server.app.deckhand;
    const a = openClient({ url: server.wsUrl, presentationId: 'force', token: mintToken('ada') });
    clients.push(a);
    await waitSynced(a);
    insertSlide(a.doc, { id: 's', title: 'slide' });
    await waitAcked(a);
    // The same provider, re-syncing every 300 ms (a stock provider option).
    a.provider.destroy();
    await waitFor(() => collab.connectionsOf('force').length === 0, 10_000, 'the first document connection closed');
    const syncing = new HocuspocusProvider({
      websocketProvider: a.socket,
      name: 'presentation:force',
      document: a.doc,
      token: mintToken('ada'),
      forceSyncInterval: 300,
    });
    syncing.attach();
    await waitFor(() => syncing.isSynced && !syncing.hasUnsyncedChanges, 10_000, 'the re-syncing provider synced');

    const releaseFirst = await holdAppendsContaining(databaseUrl, '<one>');
    const releaseSecond = await holdAppendsContaining(databaseUrl, '<two>');
    releases.push(releaseFirst, releaseSecond);
    write(a.doc, 's', '<one>');
    await untilAsync(async () => (await heldAppends(databaseUrl)) === 1, 'the first append to wait');
    write(a.doc, 's', '<two>');
    await waitFor(() => collab.updateLog.pending === 2, 10_000, 'the second append queued');
    // Let the provider re-sync while both acks are held (it counts its unsynced changes from 1 again).
    let resynced = false;
    syncing.on('unsyncedChanges', ({ number }: { number: number }) => {
      if (number === 1) resynced = true;
    });
    await waitFor(() => resynced, 10_000, 'a re-sync');

    const appended = collab.updateLog.stats.appended;
    await releaseFirst();
    await waitFor(() => collab.updateLog.stats.appended > appended, 10_000, 'the first append committed');
    await untilAsync(async () => (await heldAppends(databaseUrl)) === 1, 'the second append to wait');
    // A round trip on the socket: whatever the server sent when the first append committed has arrived.
    const stateless: string[] = [];
    syncing.on('stateless', ({ payload }: { payload: string }) => stateless.push(payload));
    syncing.sendStateless(JSON.stringify({ type: 'lock_slide', slide_id: 'no-such-slide' }));
    await waitFor(() => stateless.some((p) => p.includes('NOT_FOUND')), 10_000, 'the answer to the round trip');

    expect(await storedBody(databaseUrl, 'force', 's')).toBe('<one>');
    expect(syncing.hasUnsyncedChanges).toBe(true);

    await releaseSecond();
    await waitFor(() => !syncing.hasUnsyncedChanges, 10_000, 'the ack of the second edit');
    expect(await storedBody(databaseUrl, 'force', 's')).toBe('<two><one>');
    syncing.destroy();
  });

  it('updates whose acks never come (Hocuspocus failed on them) do not count against their socket’s budget for good', async () => {
    const databaseUrl = await createTestDatabase('ackleak');
    const budget = 16_384;
    const server = await startServer({ DATABASE_URL: databaseUrl, COLLAB_MAX_FRAME_BYTES: '8192', COLLAB_MAX_INFLIGHT_BYTES: String(budget) });
    servers.push(server);
    await createDeck(server, 'leak', ['s1'], { vic: 'viewer' }, clients);
    const vic = await openRawWriter(server.wsUrl, 'leak', mintToken('vic'));
    const authOks = () => vic.raw.received.filter((m) => typeOf(m) === MessageType.Auth).length;

    // A malformed SyncStep2 from a viewer: Hocuspocus throws reading it and closes the document connection (the
    // socket stays open); the viewer opens the document again on the same socket. More times than the budget has
    // room for acks.
    for (let i = 0; i < 80; i++) {
      const closes = vic.closes.length;
      vic.send(new Uint8Array([5, 255, 255, 255, 255, 15]), 1);
      await vic.until(() => vic.closes.length > closes, `close ${i}`);
      const oks = authOks();
      vic.sendAuth(mintToken('vic'));
      await vic.until(() => authOks() > oks, `authenticated again ${i}`);
    }
    // The socket still gets its SyncStep2 handled and acknowledged.
    vic.send(new Uint8Array([0, 0]), 1);
    await vic.until(() => vic.acks.length > 0, 'the ack of a valid SyncStep2');
    expect(vic.acks).toEqual([true]);
  });
});

/** The document `base` plus `updates`. */
function docOf(base: Y.Doc, updates: Uint8Array[]): Y.Doc {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(base));
  for (const update of updates) Y.applyUpdate(doc, update);
  return doc;
}
