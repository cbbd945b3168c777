/**
 * The SDK's status (`client.status`): set one's own, read another's, follow it live (the current status first, then
 * every change, each once), over WebSocket and over SSE.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UserStatus } from '../../client/index.js';
import { destroyClients, sdkClient } from '../client/support.js';
import { createDeck, eventually } from '../chat/support.js';
import { createTestDatabase } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('SDK status', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('statussdk') });
    await createDeck(server.url, 'deck', 'olga', { uma: 'editor', una: 'editor', sam: 'viewer' });
  });
  afterEach(() => destroyClients());
  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ['websocket', 'uma'],
    ['sse', 'una'],
  ] as const)('olga follows a user over %s: offline, online when connected, busy, offline when gone', async (transport, user) => {
    const olga = sdkClient(server.url, 'olga', { channelsTransport: transport });
    const seen: UserStatus[] = [];
    olga.status.follow(user, (status) => seen.push(status));
    await eventually(() => seen.length === 1, 'the current status first');
    expect(seen[0]).toMatchObject({ user_id: user, status: 'offline' });

    const them = sdkClient(server.url, user);
    // Following one's own status keeps a live connection open: the user is online.
    them.status.follow(user, () => {});
    await eventually(() => seen.at(-1)?.status === 'online', 'online');
    expect(await them.status.set('busy', 'Presenting')).toMatchObject({ status: 'busy', message: 'Presenting' });
    await eventually(() => seen.at(-1)?.status === 'busy', 'busy');
    expect(await olga.status.get(user)).toMatchObject({ status: 'busy', message: 'Presenting' });
    them.destroy();
    await eventually(() => seen.at(-1)?.status === 'offline', 'offline');
    expect(seen.map((s) => s.status)).toEqual(['offline', 'online', 'busy', 'offline']);
    expect(seen.at(-1)!.message).toBe('Presenting');
  });

  it('a stranger can neither read nor follow a status', async () => {
    const stranger = sdkClient(server.url, 'zed');
    await expect(stranger.status.get('uma')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    const errors: string[] = [];
    stranger.status.follow(
      'uma',
      () => errors.push('delivered'),
      (error) => errors.push(error.code),
    );
    await eventually(() => errors.filter((e) => e === 'PERMISSION_DENIED').length >= 1, 'refused');
    expect(errors).not.toContain('delivered');
  });
});
