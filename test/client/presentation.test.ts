import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeckhandError, type SlideLock } from '../../client/index.js';
import { colourFor } from '../../shared/colour.js';
import { insertRichSlide, richTextToPlain } from '../../shared/presentation.js';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { api, destroyClients, sdkClient, waitFor } from './support.js';

describe('SDK: presentations against a real server', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('sdk') });
  });
  afterAll(async () => {
    destroyClients();
    await server?.close();
  });

  it('binds slides and comments, shows presence with server-stamped users, and carries every document on one socket', async () => {
    const alice = sdkClient(server.url, 'alice');
    const deckA = alice.openPresentation('sdk-deck');
    await deckA.whenSynced();
    expect(deckA.user).toEqual({ id: 'alice', name: 'Alice' });
    expect((await api(server.url, 'PUT', '/api/v1/presentations/sdk-deck/members/bob', { role: 'editor' }, mintToken('alice'))).status).toBe(200);

    const slideId = deckA.slides.add({ title: 'Intro', body: 'Hello\nWorld' });
    const other = alice.openPresentation('sdk-other');
    expect(alice.openPresentation('sdk-deck')).toBe(deckA);

    const bob = sdkClient(server.url, 'bob');
    const deckB = bob.openPresentation('sdk-deck');
    await Promise.all([deckB.whenSynced(), other.whenSynced()]);
    await waitFor(() => deckB.slides.list().some((s) => s.id === slideId && s.title === 'Intro'), 5000, 'slide on bob');
    expect(richTextToPlain(deckB.slides.content(slideId))).toBe('Hello\nWorld');
    expect(deckB.slides.body(slideId).toString()).toBe('Hello\nWorld');
    // Two users, three documents, two sockets.
    expect(server.app.websocketServer.clients.size).toBe(2);

    deckA.presence.setSlide(slideId);
    deckA.slides.title(slideId).insert(5, '!');
    deckA.presence.setCursor(deckA.slides.title(slideId), 6);
    await waitFor(() => deckB.presence.others().some((p) => p.slideId === slideId && p.cursor !== null), 5000, 'alice on bob');
    const [peer] = deckB.presence.others();
    expect(peer!.user).toEqual({ id: 'alice', name: 'Alice', color: colourFor('alice') });
    expect(deckB.presence.cursorIn(peer!, deckB.slides.title(slideId))).toEqual({ anchor: 6, head: 6 });

    deckB.comments.add(slideId, '  Looks good  ');
    await waitFor(() => deckA.comments.list(slideId).length === 1, 5000, 'comment on alice');
    expect(deckA.comments.list(slideId)[0]).toMatchObject({ author: 'bob', text: 'Looks good', resolved: false });
    await waitFor(() => deckA.state.unsyncedChanges === 0 && deckB.state.unsyncedChanges === 0, 5000, 'acks');
    expect(deckA.state).toEqual({ status: 'connected', synced: true, unsyncedChanges: 0 });
  });

  it('locks a slide: the table on every client, LOCKED with the holder for others, their edits there kept off and reported', async () => {
    const alice = sdkClient(server.url, 'alice');
    const deckA = alice.openPresentation('sdk-locks');
    await deckA.whenSynced();
    await api(server.url, 'PUT', '/api/v1/presentations/sdk-locks/members/bob', { role: 'editor' }, mintToken('alice'));
    const s1 = deckA.slides.add({ title: 'Locked' });
    const s2 = deckA.slides.add({ title: 'Free' });
    const bob = sdkClient(server.url, 'bob');
    const deckB = bob.openPresentation('sdk-locks');
    await deckB.whenSynced();
    await waitFor(() => deckB.slides.has(s2), 5000, 'slides on bob');
    const tables: (readonly SlideLock[])[] = [];
    deckB.locks.onChange((locks) => tables.push(locks));
    const errors: DeckhandError[] = [];
    deckB.onError((error) => errors.push(error));

    const lock = await deckA.locks.lock(s1);
    expect(lock).toMatchObject({ slide_id: s1, user_id: 'alice', name: 'Alice', color: colourFor('alice') });
    expect(deckA.locks.isMine(s1)).toBe(true);
    await waitFor(() => deckB.locks.isLockedByOther(s1), 5000, 'lock on bob');
    expect(tables.at(-1)?.map((l) => l.slide_id)).toEqual([s1]);

    const refused = await deckB.locks.lock(s1).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(DeckhandError);
    expect(refused).toMatchObject({ code: 'LOCKED', details: { slide_id: s1, holder: { user_id: 'alice', name: 'Alice' } } });

    deckB.doc.transact(() => {
      deckB.slides.title(s1).insert(0, 'INTRUDER ');
      deckB.slides.title(s2).insert(0, 'still ');
    });
    await waitFor(
      () => errors.some((e) => e.code === 'LOCKED' && (e.details as { slide_ids?: string[] }).slide_ids?.includes(s1)),
      5000,
      'refusal reported',
    );
    for (const deck of [deckA, deckB]) {
      await waitFor(() => deck.slides.title(s1).toString() === 'Locked' && deck.slides.title(s2).toString() === 'still Free', 5000, 'kept off');
    }

    await deckA.locks.unlock(s1);
    await waitFor(() => deckB.locks.all.length === 0, 5000, 'unlocked on bob');
    const notHeld = await deckB.locks.unlock(s2).catch((err: unknown) => err);
    expect(notHeld).toMatchObject({ code: 'NOT_FOUND' });
    await expect(deckB.locks.lock('../etc')).rejects.toThrow(TypeError);
  });

  it("a refusal notice for an edit naming a slide is not the answer to that slide's pending lock request", async () => {
    const alice = sdkClient(server.url, 'alice');
    const deckA = alice.openPresentation('sdk-lock-answers');
    await deckA.whenSynced();
    await api(server.url, 'PUT', '/api/v1/presentations/sdk-lock-answers/members/bob', { role: 'editor' }, mintToken('alice'));
    const s1 = deckA.slides.add({ title: 'Held' });
    const s2 = deckA.slides.add({ title: 'Free' });
    const bob = sdkClient(server.url, 'bob');
    const deckB = bob.openPresentation('sdk-lock-answers');
    await deckB.whenSynced();
    await waitFor(() => deckB.slides.has(s2), 5000, 'slides on bob');
    const errors: DeckhandError[] = [];
    deckB.onError((error) => errors.push(error));

    // Bob adds a slide reusing s2's id, then asks for s2's lock: the server refuses the slide (CONFLICT, naming s2)
    // before it takes the lock request, and grants the lock.
    insertRichSlide(deckB.doc, { id: s2, title: 'duplicate' });
    const lock = await deckB.locks.lock(s2);
    expect(lock).toMatchObject({ slide_id: s2, user_id: 'bob' });
    expect(errors.some((e) => e.code === 'CONFLICT' && (e.details as { slide_ids?: string[] }).slide_ids?.includes(s2))).toBe(true);

    // Alice holds s1; bob types in it and asks for its lock: the LOCKED notice for the edit comes first, the
    // request's own answer (LOCKED with the holder) settles it.
    await deckA.locks.lock(s1);
    await waitFor(() => deckB.locks.isLockedByOther(s1), 5000, 'lock on bob');
    deckB.slides.title(s1).insert(0, 'INTRUDER ');
    const refused = await deckB.locks.lock(s1).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: 'LOCKED', details: { slide_id: s1, holder: { user_id: 'alice', name: 'Alice' } } });
    expect(errors.some((e) => e.code === 'LOCKED' && (e.details as { refused?: string }).refused === 'part')).toBe(true);
  });
});
