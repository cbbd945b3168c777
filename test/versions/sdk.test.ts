/** The SDK's `versions` and `activity` against a real server, with an open session following a restore. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createDeckhandClient, DeckhandError, type DeckhandClient, type WebSocketConstructor } from '../../client/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/collab-client.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { api } from './support.js';

describe('SDK: versions and activity', () => {
  let server: TestServer;
  const clients: DeckhandClient[] = [];
  const client = (user: string) => {
    const c = createDeckhandClient({
      url: server.url,
      token: mintToken(user, { name: user.toUpperCase() }),
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('sdkver') });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
  });

  it('creates, lists, reads and restores versions; a session follows the restore; errors carry the contract codes', async () => {
    const olga = client('olga');
    const session = olga.openPresentation('sdk-versions');
    await session.whenSynced();
    const slideId = session.slides.add({ title: 'Before' });
    await waitFor(() => session.state.unsyncedChanges === 0, 5000, 'saved');

    const v1 = await olga.versions.create('sdk-versions', { label: 'Before edits' });
    expect(v1).toMatchObject({ label: 'Before edits', kind: 'manual', created_by: 'olga' });
    session.slides.title(slideId).insert(6, ' and after');
    await waitFor(() => session.state.unsyncedChanges === 0, 5000, 'saved');

    const list = await olga.versions.list('sdk-versions', { limit: 10 });
    expect(list.versions.map((v) => v.version_id)).toEqual([v1.version_id]);
    expect(list.next_cursor).toBeNull();
    expect((await olga.versions.get('sdk-versions', v1.version_id)).slides).toEqual([expect.objectContaining({ id: slideId, title: 'Before' })]);

    const result = await olga.versions.restore('sdk-versions', v1.version_id);
    expect(result.restored).toBe(v1.version_id);
    await waitFor(() => session.slides.title(slideId).toString() === 'Before', 5000, 'the open session follows the restore');

    const activity = await olga.activity.list('sdk-versions', { limit: 1 });
    expect(activity.events.map((e) => e.type)).toEqual(['version.restored']);
    expect(activity.events[0]!.actor).toEqual({ user_id: 'olga', name: 'OLGA' });
    const older = await olga.activity.list('sdk-versions', { before: activity.next_before! });
    expect(older.events.map((e) => e.type)).toEqual(['version.created']);

    // A viewer reads but may not restore; a stranger may not read; bad ids never leave the client.
    expect((await api(server, 'PUT', '/presentations/sdk-versions/members/vic', 'olga', { role: 'viewer' })).status).toBe(200);
    const vic = client('vic');
    expect((await vic.versions.list('sdk-versions')).versions).toHaveLength(2);
    await expect(vic.versions.restore('sdk-versions', v1.version_id)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(client('mallory').activity.list('sdk-versions')).rejects.toBeInstanceOf(DeckhandError);
    await expect(olga.versions.get('sdk-versions', 'nope')).rejects.toThrow(TypeError);
    await expect(olga.versions.list('bad id')).rejects.toThrow(TypeError);
  });
});
