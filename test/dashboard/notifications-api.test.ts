/**
 * Notifications for dashboards, through real HTTP and WebSockets: DELETE /notifications/{id},
 * POST /notifications/read-all and the socket's `mark_all_read`, each told to every tab of the user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { call, notificationsWs, notify } from '../realtime/support.js';

describe('notifications API for dashboards', () => {
  let server: TestServer;
  const sockets: JsonWsClient[] = [];

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('notifapi'), AUTO_NOTIFICATIONS: 'none' });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await server?.close();
  });

  const ws = async (user: string) => {
    const client = await openJsonWs(notificationsWs(server.url, mintToken(user)));
    sockets.push(client);
    await client.waitForType('connected');
    return client;
  };
  const unread = async (user: string) => (await call(server.url, 'GET', '/api/v1/notifications?unread=true', { token: mintToken(user) })).body;

  it('DELETE /notifications/{id}: the recipient deletes it, every tab hears it; strangers 403, gone 404, bad id 400', async () => {
    const [mine, theirs] = (await notify(server.url, { user_ids: ['ann', 'ben'], title: 'to delete' })).body.notifications;
    const keep = (await notify(server.url, { user_id: 'ann', title: 'to keep' })).body.notifications[0];
    const broadcast = (await notify(server.url, { channel: 'general', title: 'for all' })).body.notifications[0];
    const tab = await ws('ann');
    await tab.waitFor((m) => m.type === 'notification' && m.id === keep.id);

    const stranger = await call(server.url, 'DELETE', `/api/v1/notifications/${theirs.id}`, { token: mintToken('ann') });
    expect(stranger.status).toBe(403);
    expect(stranger.body.error_code).toBe('PERMISSION_DENIED');
    expect((await call(server.url, 'DELETE', `/api/v1/notifications/${broadcast.id}`, { token: mintToken('ann') })).status).toBe(403);

    const deleted = await call(server.url, 'DELETE', `/api/v1/notifications/${mine.id}`, { token: mintToken('ann') });
    expect(deleted.status).toBe(204);
    expect(await tab.waitFor((m) => m.type === 'notification_deleted')).toMatchObject({ id: mine.id });
    expect((await unread('ann')).notifications.map((n: any) => n.id)).toEqual([keep.id]);
    expect((await unread('ben')).notifications.map((n: any) => n.id)).toContain(theirs.id);

    const again = await call(server.url, 'DELETE', `/api/v1/notifications/${mine.id}`, { token: mintToken('ann') });
    expect(again.status).toBe(404);
    expect(again.body.error_code).toBe('NOT_FOUND');
    const bad = await call(server.url, 'DELETE', '/api/v1/notifications/not-a-uuid', { token: mintToken('ann') });
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('INVALID_MESSAGE');
    expect((await call(server.url, 'DELETE', `/api/v1/notifications/${keep.id}`)).status).toBe(401);

    // A socket that connects now does not get the deleted one as unread.
    const later = await ws('ann');
    await later.waitFor((m) => m.type === 'notification' && m.id === keep.id);
    expect(later.messages.some((m) => m.id === mine.id)).toBe(false);
  });

  it('POST /notifications/read-all: every unread of the caller, and only the caller’s; tabs hear it; bad input 400', async () => {
    await notify(server.url, { user_ids: ['cat', 'dan'], title: 'one' });
    await notify(server.url, { user_id: 'cat', title: 'two' });
    const alreadyRead = (await notify(server.url, { user_id: 'cat', title: 'three' })).body.notifications[0];
    await call(server.url, 'POST', `/api/v1/notifications/${alreadyRead.id}/read`, { token: mintToken('cat') });
    const tab = await ws('cat');
    await tab.waitFor(() => tab.messages.filter((m) => m.type === 'notification').length === 2);

    const res = await call(server.url, 'POST', '/api/v1/notifications/read-all', { token: mintToken('cat') });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ updated: 2 });
    expect(await tab.waitForType('notifications_read_all')).toMatchObject({ updated: 2 });
    expect((await unread('cat')).unread_count).toBe(0);
    expect((await unread('dan')).unread_count).toBe(1);
    const list = (await call(server.url, 'GET', '/api/v1/notifications', { token: mintToken('cat') })).body.notifications;
    expect(list.find((n: any) => n.id === alreadyRead.id).read_at).toBeTruthy();

    expect((await call(server.url, 'POST', '/api/v1/notifications/read-all', { token: mintToken('cat') })).body).toEqual({ updated: 0 });
    const garbage = await fetch(`${server.url}/api/v1/notifications/read-all`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mintToken('cat')}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as any).error_code).toBe('INVALID_MESSAGE');
    expect((await call(server.url, 'POST', '/api/v1/notifications/read-all')).status).toBe(401);
  });

  it('WebSocket mark_all_read: persisted, announced to every tab; with nothing unread, confirmed to this socket only', async () => {
    await notify(server.url, { user_id: 'eve', title: 'a' });
    await notify(server.url, { user_id: 'eve', title: 'b' });
    await notify(server.url, { user_id: 'fay', title: 'not eve’s' });
    const first = await ws('eve');
    const second = await ws('eve');
    await second.waitFor(() => second.messages.filter((m) => m.type === 'notification').length === 2);

    first.send({ type: 'mark_all_read' });
    expect(await first.waitForType('notifications_read_all')).toMatchObject({ updated: 2 });
    expect(await second.waitForType('notifications_read_all')).toMatchObject({ updated: 2 });
    expect((await unread('eve')).unread_count).toBe(0);
    expect((await unread('fay')).unread_count).toBe(1);

    const before = second.messages.length;
    const from = first.messages.length;
    first.send({ type: 'mark_all_read' });
    expect(await first.waitFor((m) => m.type === 'notifications_read_all', 5000, 'confirmation', from)).toMatchObject({ updated: 0 });
    first.send({ type: 'ping' });
    await first.waitFor((m) => m.type === 'pong', 5000, 'pong', from);
    expect(second.messages.slice(before).some((m) => m.type === 'notifications_read_all')).toBe(false);

    const errorsFrom = first.messages.length;
    first.send({ type: 'mark_all_reed' });
    expect(await first.waitFor((m) => m.type === 'error', 5000, 'error', errorsFrom)).toMatchObject({ error_code: 'INVALID_MESSAGE' });
    expect(first.messages.at(-1).message).toContain('mark_all_read');

    // A new socket gets nothing as unread.
    const third = await ws('eve');
    third.send({ type: 'ping' });
    await third.waitForType('pong');
    expect(third.messages.some((m) => m.type === 'notification')).toBe(false);
  });
});
