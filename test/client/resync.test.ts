/**
 * The SDK replaces a session's document with the server's after the write guard refused one of its edits (design
 * §5, client/presentation/resync.ts), against a real server and Postgres: the refused delete is undone locally,
 * honest edits the server had not acknowledged yet survive, and what is stored after a restart is the honest edits.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { DeckhandError, PresentationSession } from '../../client/index.js';
import { holdAppendsContaining } from '../helpers/append-hold.js';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { api, destroyClients, sdkClient, waitFor } from './support.js';

const refusedAs = (kind: 'part' | 'whole') => (e: DeckhandError) => (e.details as { refused?: string } | undefined)?.refused === kind;

describe('SDK: resync after a refused edit', () => {
  let databaseUrl: string;
  let server: TestServer;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('sdkresync');
    server = await startServer({ DATABASE_URL: databaseUrl });
  });
  afterEach(() => destroyClients());
  afterAll(async () => {
    destroyClients();
    await server?.close();
  });

  /** Alice owns `deck` with slides "Locked title" (locked by her) and "Free"; Bob, an editor, has it synced. */
  async function lockedDeck(deck: string) {
    const deckA = sdkClient(server.url, 'alice').openPresentation(deck);
    await deckA.whenSynced();
    expect((await api(server.url, 'PUT', `/api/v1/presentations/${deck}/members/bob`, { role: 'editor' }, mintToken('alice'))).status).toBe(200);
    const locked = deckA.slides.add({ title: 'Locked title' });
    const free = deckA.slides.add({ title: 'Free' });
    await deckA.locks.lock(locked);
    const deckB = sdkClient(server.url, 'bob').openPresentation(deck);
    await deckB.whenSynced();
    await waitFor(() => deckB.slides.has(free) && deckB.locks.isLockedByOther(locked), 5000, 'deck on bob');
    deckB.presence.setSlide(free);
    await waitFor(() => deckA.presence.others().some((p) => p.slideId === free), 5000, 'bob on alice');
    const errors: DeckhandError[] = [];
    deckB.onError((error) => errors.push(error));
    const docs: Y.Doc[] = [];
    deckB.onDocument((doc) => docs.push(doc));
    return { deckA, deckB, locked, free, errors, docs };
  }

  const settled = (deck: PresentationSession) => deck.state.synced && deck.state.unsyncedChanges === 0 && !deck.resyncing;

  it('restores a refused delete, keeps the unacknowledged honest edits, and stores the honest edits only', async () => {
    const { deckA, deckB, locked, free, errors, docs } = await lockedDeck('resync-delete');
    const old = deckB.doc;
    const clientId = old.clientID;
    // The honest edit outside the locked slide stays unacknowledged (its append is held in Postgres) until released.
    const release = await holdAppendsContaining(databaseUrl, 'HONEST-1');
    try {
      deckB.slides.title(locked).delete(0, 7); // refused: Alice holds the slide
      deckB.slides.title(locked).delete(0, 2); // refused again: one resync covers both
      deckB.slides.title(free).insert(4, ' HONEST-1');
      await waitFor(() => errors.filter(refusedAs('part')).length === 2, 5000, 'both refusals');
      expect(errors.filter(refusedAs('part')).map((e) => e.code)).toEqual(['LOCKED', 'LOCKED']);
      // Diverged, and waiting: the honest edit is not acknowledged yet.
      expect(deckB.slides.title(locked).toString()).toBe('tle');
      expect(deckB.resyncing).toBe(true);
      expect(deckB.doc).toBe(old);
      expect(deckB.state.unsyncedChanges).toBeGreaterThan(0);
      // An edit made while the document is being replaced (on the old one, that no longer sends): carried over.
      let typedDuringSwitch = false;
      deckB.onState((state) => {
        if (state.status === 'connected' && !state.synced && !typedDuringSwitch) {
          typedDuringSwitch = true;
          deckB.slides.title(free).insert(0, 'HONEST-2 ');
        }
      });
    } finally {
      await release();
    }

    await waitFor(() => docs.length === 1 && settled(deckB), 10_000, 'resynced');
    expect(deckB.doc).toBe(docs[0]);
    expect(deckB.doc).not.toBe(old);
    expect(deckB.doc.clientID).toBe(clientId);
    expect(deckB.slides.title(locked).toString()).toBe('Locked title');
    expect(deckB.slides.title(free).toString()).toBe('HONEST-2 Free HONEST-1');
    await waitFor(() => deckA.slides.title(free).toString() === 'HONEST-2 Free HONEST-1', 5000, 'honest edits on alice');
    expect(deckA.slides.title(locked).toString()).toBe('Locked title');
    // Same connection: Alice's lock and Bob's presence carried on, no second resync.
    expect(deckA.locks.isMine(locked)).toBe(true);
    expect(deckA.presence.others().map((p) => [p.clientId, p.slideId])).toEqual([[clientId, free]]);
    expect(docs).toHaveLength(1);

    // Bob keeps editing the new document; an edit left on the old one is dropped and reported.
    deckB.slides.title(free).insert(0, '> ');
    old.getText('stale').insert(0, 'x');
    expect(errors.at(-1)).toMatchObject({ code: 'CONFLICT' });
    await waitFor(() => deckA.slides.title(free).toString() === '> HONEST-2 Free HONEST-1' && settled(deckB), 5000, 'later edit');

    destroyClients();
    await server.close();
    server = await startServer({ DATABASE_URL: databaseUrl });
    const stored = sdkClient(server.url, 'alice').openPresentation('resync-delete');
    await stored.whenSynced();
    expect(stored.slides.list()).toEqual([
      { id: locked, title: 'Locked title' },
      { id: free, title: '> HONEST-2 Free HONEST-1' },
    ]);
    expect(stored.doc.share.has('stale')).toBe(false);
  });

  it("after an update refused whole (written under another user's client id) converges once, without re-sending it", async () => {
    const { deckA, deckB, free, errors, docs } = await lockedDeck('resync-whole');
    // A scratch copy that writes under Alice's client id, applied to Bob's document: his provider sends it.
    const forger = new Y.Doc();
    Y.applyUpdate(forger, Y.encodeStateAsUpdate(deckB.doc));
    forger.clientID = deckA.doc.clientID;
    const before = Y.encodeStateVector(forger);
    const slide = (forger.getArray('slides').toArray() as Y.Map<unknown>[]).find((s) => s.get('id') === free)!;
    (slide.get('title') as Y.Text).insert(0, 'FORGED ');
    Y.applyUpdate(deckB.doc, Y.encodeStateAsUpdate(forger, before));

    await waitFor(() => errors.some(refusedAs('whole')), 5000, 'refused whole');
    await waitFor(() => docs.length === 1 && settled(deckB), 10_000, 'resynced');
    expect(deckB.slides.title(free).toString()).toBe('Free');
    deckB.slides.title(free).insert(4, '!');
    await waitFor(() => deckA.slides.title(free).toString() === 'Free!' && settled(deckB), 5000, 'honest edit after');
    expect(errors.filter(refusedAs('whole'))).toHaveLength(1);
    expect(docs).toHaveLength(1);
  });
});
