/**
 * Issue #11, locks: only existing slides can be locked (over the collaboration socket and REST), locks are capped per
 * user and per document (LOCK_MAX_PER_USER, LOCK_MAX_PER_DOCUMENT), and every client gets the whole table on join,
 * then only the changes (`locks_changed`), never the table again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClient, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase } from '../helpers/database.js';
import { createDeck } from '../helpers/deck.js';
import { locksOf, sendLock } from '../helpers/lock-table.js';
import { errorsOf } from '../helpers/raw-writer.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';

type Msg = { type?: string; set?: unknown[]; released?: string[] };

describe('slide locks: existing slides only, capped, changes broadcast as changes', () => {
  let server: TestServer;
  const clients: CollabClient[] = [];
  const open = (user: string) => {
    const c = openClient({ url: server.wsUrl, presentationId: 'caps', token: mintToken(user, { name: user.toUpperCase() }) });
    clients.push(c);
    return c;
  };
  const holds = (c: CollabClient, slideId: string, userId: string) =>
    locksOf(c)?.some((l) => l.slide_id === slideId && l.user_id === userId) === true;

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('lockcaps'), LOCK_MAX_PER_USER: '2', LOCK_MAX_PER_DOCUMENT: '3' });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
  });

  it('refuses locks on slides that do not exist, past the per-user and per-document caps, and sends changes only', async () => {
    await createDeck(server, 'caps', ['s1', 's2', 's3', 's4', 's5'], { hana: 'editor', ivan: 'editor', vic: 'viewer' }, clients);
    const hana = open('hana');
    const ivan = open('ivan');
    const vic = open('vic');
    await Promise.all([waitSynced(hana), waitSynced(ivan), waitSynced(vic)]);
    await waitFor(() => locksOf(vic) !== undefined, 5000, 'table on join');

    sendLock(hana, 'lock_slide', 'ghost');
    await waitFor(() => errorsOf(hana.stateless, 'NOT_FOUND').length === 1, 5000, 'NOT_FOUND for a slide that does not exist');
    const rest = await fetch(`${server.url}/api/v1/presentations/caps/locks/ghost`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mintToken('ivan')}` },
    });
    expect(rest.status).toBe(404);

    sendLock(hana, 'lock_slide', 's1');
    sendLock(hana, 'lock_slide', 's2');
    await waitFor(() => holds(vic, 's1', 'hana') && holds(vic, 's2', 'hana'), 5000, 'hana holds two');
    sendLock(hana, 'lock_slide', 's3');
    await waitFor(() => errorsOf(hana.stateless, 'RATE_LIMIT_EXCEEDED').length === 1, 5000, 'per-user cap');
    sendLock(ivan, 'lock_slide', 's3');
    await waitFor(() => holds(vic, 's3', 'ivan'), 5000, 'ivan holds s3');
    sendLock(ivan, 'lock_slide', 's4');
    await waitFor(() => errorsOf(ivan.stateless, 'RATE_LIMIT_EXCEEDED').length === 1, 5000, 'per-document cap');
    const viaRest = await fetch(`${server.url}/api/v1/presentations/caps/locks/s5`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mintToken('ivan')}` },
    });
    expect(viaRest.status).toBe(429);
    expect(
      locksOf(vic)
        ?.map((l) => l.slide_id)
        .sort(),
    ).toEqual(['s1', 's2', 's3']);

    sendLock(hana, 'unlock_slide', 's1');
    await waitFor(() => !holds(vic, 's1', 'hana'), 5000, 'released');

    // The viewer got the table once, on join; every change after that was a change of one lock.
    const lockMessages = (vic.stateless as Msg[]).filter((m) => m.type === 'locks' || m.type === 'locks_changed');
    expect(lockMessages[0]!.type).toBe('locks');
    const changes = lockMessages.slice(1);
    expect(changes.length).toBeGreaterThanOrEqual(4);
    for (const change of changes) {
      expect(change.type).toBe('locks_changed');
      expect((change.set?.length ?? 0) + (change.released?.length ?? 0)).toBe(1);
    }
    expect(changes.at(-1)).toMatchObject({ type: 'locks_changed', set: [], released: ['s1'] });
  });
});
