/**
 * User status on one instance (in-process liveness): the chosen status shows while the user has a live connection
 * (notifications socket, SSE stream, /collab), `offline` with the last-seen time otherwise; changes are published on
 * `status.{user_id}`; who may see a status; bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClient, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase } from '../helpers/database.js';
import type { JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import type { SseClient } from '../helpers/sse.js';
import { call } from '../realtime/support.js';
import { createDeck, eventually, socketOf, sseOf, subscribe } from '../chat/support.js';

const statusOf = async (base: string, asUser: string, userId: string) =>
  call(base, 'GET', `/api/v1/status/${encodeURIComponent(userId)}`, { token: mintToken(asUser) });
const setStatus = (base: string, user: string, body: unknown) => call(base, 'PUT', '/api/v1/status', { token: mintToken(user), body });

describe('user status on one instance', () => {
  let server: TestServer;
  const sockets: JsonWsClient[] = [];
  const streams: SseClient[] = [];
  const clients: CollabClient[] = [];
  const ws = async (user: string) => {
    const client = await socketOf(server.url, user);
    sockets.push(client);
    return client;
  };
  const current = async (userId: string, asUser = userId) => (await statusOf(server.url, asUser, userId)).body.status;

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('status') });
    await createDeck(server.url, 'deck', 'olga', { uma: 'editor', una: 'commenter', vic: 'viewer' });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const s of streams) s.close();
    for (const c of clients) c.destroy();
    await server?.close();
  });

  it('offline without a connection; the chosen status while connected; offline again with last_seen when gone', async () => {
    const before = await statusOf(server.url, 'uma', 'uma');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({ user_id: 'uma', status: 'offline', message: null, last_seen: null });

    const socket = await ws('uma');
    await eventually(async () => (await current('uma')) === 'online', 'online once connected');
    const set = await setStatus(server.url, 'uma', { status: 'busy', message: '  In a meeting  ' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ user_id: 'uma', status: 'busy', message: 'In a meeting' });
    const seenBy = await statusOf(server.url, 'vic', 'uma');
    expect(seenBy.body).toMatchObject({ status: 'busy', message: 'In a meeting' });
    expect(Math.abs(Date.parse(seenBy.body.last_seen) - Date.now())).toBeLessThan(60_000);

    const closedAt = Date.now();
    socket.close();
    await eventually(async () => (await current('uma')) === 'offline', 'offline once the last connection closed');
    const after = (await statusOf(server.url, 'olga', 'uma')).body;
    expect(after.message).toBe('In a meeting'); // the message stays while offline
    expect(Date.parse(after.last_seen)).toBeGreaterThanOrEqual(closedAt - 1000);

    // Choosing while offline is stored and shows on the next connection.
    expect((await setStatus(server.url, 'uma', { status: 'away' })).body).toMatchObject({ status: 'offline', message: null });
    await ws('uma');
    await eventually(async () => (await current('uma')) === 'away', 'the stored choice shows once connected');
  });

  it('every kind of live connection counts: SSE streams and /collab sockets too, until the last one closes', async () => {
    const stream = await sseOf(server.url, 'vic', []);
    streams.push(stream);
    expect(stream.status).toBe(200);
    await eventually(async () => (await current('vic')) === 'online', 'online with an SSE stream');
    const editor = openClient({ url: server.wsUrl, presentationId: 'deck', token: mintToken('vic') });
    clients.push(editor);
    await waitSynced(editor);
    stream.close();
    // The /collab socket keeps vic online after the stream ended.
    const marker = await ws('olga');
    marker.close();
    await eventually(async () => (await current('olga')) === 'offline', 'olga offline (a marker that closes were handled)');
    expect(await current('vic')).toBe('online');
    editor.destroy();
    await eventually(async () => (await current('vic')) === 'offline', 'offline once the /collab socket closed');
  });

  it('changes are published on status.{user_id}, once each', async () => {
    const watcher = await ws('olga');
    expect(await subscribe(watcher, 'status.una')).toMatchObject({ type: 'subscribed' });
    const statuses = () => watcher.messages.filter((m) => m.type === 'user_status' && m.user_id === 'una').map((m) => m.status);
    const first = await ws('una');
    const second = await ws('una');
    await watcher.waitFor(() => statuses().length >= 1 && statuses().at(-1) !== 'offline');
    await setStatus(server.url, 'una', { status: 'busy', message: 'focus' });
    await watcher.waitFor((m) => m.type === 'user_status' && m.status === 'busy' && m.message === 'focus');
    first.close();
    second.close();
    await watcher.waitFor((m) => m.type === 'user_status' && m.status === 'offline', 5000, 'offline announced');
    // Seeing the user online from several connections did not announce it twice, and a closed second tab was silent.
    expect(statuses()).toEqual(['online', 'busy', 'offline']);
    const offline = watcher.messages.find((m) => m.type === 'user_status' && m.status === 'offline');
    expect(offline).toMatchObject({ user_id: 'una', message: 'focus' });
    expect(typeof offline.last_seen).toBe('string');
  });

  it('who may see a status: the user, co-members and admins; strangers neither read nor follow it', async () => {
    expect((await statusOf(server.url, 'uma', 'uma')).status).toBe(200);
    expect((await statusOf(server.url, 'vic', 'uma')).status).toBe(200);
    expect((await call(server.url, 'GET', '/api/v1/status/uma', { token: mintToken('ops', { scope: 'admin' }) })).status).toBe(200);
    const stranger = await statusOf(server.url, 'sam', 'uma');
    expect(stranger.status).toBe(403);
    expect(stranger.body.error_code).toBe('PERMISSION_DENIED');
    const socket = await ws('sam');
    expect(await subscribe(socket, 'status.uma')).toMatchObject({ type: 'error', error_code: 'PERMISSION_DENIED' });
    expect(await subscribe(socket, 'status.sam')).toMatchObject({ type: 'subscribed' });
    expect((await sseOf(server.url, 'sam', ['status.uma'])).status).toBe(403);
    expect((await call(server.url, 'GET', '/api/v1/status/uma')).status).toBe(401);
  });

  it('refuses bad input with INVALID_MESSAGE', async () => {
    for (const body of [
      {},
      { status: 'sleeping' },
      { status: 'offline' },
      { status: 'busy', message: 'x'.repeat(201) },
      { status: 'busy', mood: 'grumpy' },
      { status: 'busy', message: 'a\u0000b' },
    ]) {
      const res = await setStatus(server.url, 'uma', body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_MESSAGE');
    }
    expect((await statusOf(server.url, 'uma', 'x'.repeat(257))).status).toBe(400);
    expect((await setStatus(server.url, 'uma', { status: 'online', message: null })).status).toBe(200);
  });
});
