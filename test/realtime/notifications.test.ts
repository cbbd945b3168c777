/**
 * Notifications on one instance with the in-process bus: REST, offline delivery on connect, mark_read persisted and
 * announced, channel subscriptions and their policy (with the presence hook), SSE with replay, and retention.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, queryDb } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { openSse, type SseClient } from '../helpers/sse.js';
import { call, notificationsSse, notificationsWs, notify } from './support.js';

describe('notifications on the in-process bus', () => {
  let server: TestServer;
  let databaseUrl: string;
  const sockets: JsonWsClient[] = [];
  const streams: SseClient[] = [];

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('notif');
    server = await startServer({ DATABASE_URL: databaseUrl });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const s of streams) s.close();
    await server?.close();
  });

  const ws = async (user: string) => {
    const client = await openJsonWs(notificationsWs(server.url, mintToken(user)));
    sockets.push(client);
    await client.waitForType('connected');
    return client;
  };
  const sse = async (url: string, headers?: Record<string, string>) => {
    const client = await openSse(url, headers);
    streams.push(client);
    return client;
  };

  it('REST: send to a user, several users or a channel; exactly one target; services only', async () => {
    const one = await notify(server.url, {
      user_id: 'ann',
      notification_type: 'success',
      title: 'Exported',
      message: 'Your deck is ready',
      priority: 'high',
      data: { job: 'j1' },
      action_url: '/decks/1',
      action_text: 'Open',
    });
    expect(one.status).toBe(201);
    expect(one.body.notifications).toEqual([
      expect.objectContaining({
        user_id: 'ann',
        channel: 'user_ann',
        notification_type: 'success',
        title: 'Exported',
        priority: 'high',
        data: { job: 'j1' },
        action_url: '/decks/1',
        read: false,
        read_at: null,
      }),
    ]);
    const many = await notify(server.url, { user_ids: ['ann', 'ben', 'cat'] });
    expect(many.body.notifications.map((n: any) => n.user_id)).toEqual(['ann', 'ben', 'cat']);
    const broadcast = await notify(server.url, { channel: 'general', notification_type: 'alert', title: 'Maintenance at 22:00' });
    expect(broadcast.body.notifications[0]).toMatchObject({ user_id: null, channel: 'general', priority: 'normal' });

    for (const bad of [
      {},
      { user_id: 'a', channel: 'general' },
      { user_id: 'a', notification_type: 'gossip' },
      { user_id: 'a', priority: 'meh' },
      { channel: 'user_ann' },
      { channel: 'bad channel!' },
      { user_ids: [] },
    ]) {
      const res = await notify(server.url, bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_MESSAGE');
    }
    const asUser = await call(server.url, 'POST', '/api/v1/notifications', {
      token: mintToken('ann'),
      body: { user_id: 'ben', title: 'x', message: 'y' },
    });
    expect(asUser.status).toBe(403);
    const jobsOnly = await call(server.url, 'POST', '/api/v1/notifications', {
      token: mintToken('w', { scope: 'jobs:write' }),
      body: { user_id: 'ben', title: 'x', message: 'y' },
    });
    expect(jobsOnly.status).toBe(403);
  });

  it('REST: list the caller’s own, unread filter and limit, read (idempotent), 403 for another’s, 404 for none', async () => {
    const sent = await notify(server.url, { user_ids: ['dan', 'eve'], title: 'hello' });
    const [forDan, forEve] = sent.body.notifications;
    await notify(server.url, { user_id: 'dan', title: 'second' });
    const list = await call(server.url, 'GET', '/api/v1/notifications', { token: mintToken('dan') });
    expect(list.status).toBe(200);
    expect(list.body.notifications.map((n: any) => n.title)).toEqual(['second', 'hello']);
    expect(list.body.unread_count).toBe(2);
    expect(list.body.notifications.every((n: any) => n.user_id === 'dan')).toBe(true);

    const read = await call(server.url, 'POST', `/api/v1/notifications/${forDan.id}/read`, { token: mintToken('dan') });
    expect(read.status).toBe(200);
    expect(read.body.notification).toMatchObject({ id: forDan.id, read: true });
    const again = await call(server.url, 'POST', `/api/v1/notifications/${forDan.id}/read`, { token: mintToken('dan') });
    expect(again.body.notification.read_at).toBe(read.body.notification.read_at);

    const unread = await call(server.url, 'GET', '/api/v1/notifications?unread=true&limit=10', { token: mintToken('dan') });
    expect(unread.body.notifications.map((n: any) => n.title)).toEqual(['second']);
    expect(unread.body.unread_count).toBe(1);
    expect((await call(server.url, 'GET', '/api/v1/notifications?limit=1', { token: mintToken('dan') })).body.notifications).toHaveLength(1);
    expect((await call(server.url, 'GET', '/api/v1/notifications?limit=0', { token: mintToken('dan') })).status).toBe(400);

    const notMine = await call(server.url, 'POST', `/api/v1/notifications/${forEve.id}/read`, { token: mintToken('dan') });
    expect(notMine.status).toBe(403);
    expect(notMine.body.error_code).toBe('PERMISSION_DENIED');
    const none = await call(server.url, 'POST', '/api/v1/notifications/00000000-0000-4000-8000-000000000000/read', { token: mintToken('dan') });
    expect(none.status).toBe(404);
    expect((await call(server.url, 'POST', '/api/v1/notifications/not-a-uuid/read', { token: mintToken('dan') })).status).toBe(400);
    expect((await call(server.url, 'GET', '/api/v1/notifications')).status).toBe(401);
  });

  it('WebSocket: unread notifications missed while offline arrive on connect; mark_read persists and is announced', async () => {
    for (const title of ['one', 'two', 'three']) await notify(server.url, { user_id: 'zoe', title });
    const client = await ws('zoe');
    expect(client.messages[0]).toMatchObject({ type: 'connected', user_id: 'zoe', channels: ['general', 'user_zoe'] });
    await client.waitFor(() => client.messages.filter((m) => m.type === 'notification').length === 3);
    const delivered = client.messages.filter((m) => m.type === 'notification');
    expect(delivered.map((m) => m.title)).toEqual(['one', 'two', 'three']);
    expect(delivered[0]).toMatchObject({ channel: 'user_zoe', title: 'one', read: false, data: {} });

    const other = await ws('zoe'); // a second tab
    await other.waitFor(() => other.messages.filter((m) => m.type === 'notification').length === 3);

    client.send({ type: 'mark_read', id: delivered[0].id });
    await client.waitFor((m) => m.type === 'notification_read' && m.id === delivered[0].id);
    await other.waitFor((m) => m.type === 'notification_read' && m.id === delivered[0].id);
    const unread = await call(server.url, 'GET', '/api/v1/notifications?unread=true', { token: mintToken('zoe') });
    expect(unread.body.notifications.map((n: any) => n.title).sort()).toEqual(['three', 'two']);

    // Marking an already read one is confirmed to this socket only; another user's is refused.
    const before = other.messages.length;
    const confirmationsFrom = client.messages.length;
    client.send({ type: 'mark_read', id: delivered[0].id });
    await client.waitFor((m) => m.type === 'notification_read' && m.id === delivered[0].id, 5000, 'confirmation', confirmationsFrom);
    const theirs = (await notify(server.url, { user_id: 'yan' })).body.notifications[0];
    client.send({ type: 'mark_read', id: theirs.id });
    expect(await client.waitForType('error')).toMatchObject({ error_code: 'PERMISSION_DENIED' });
    expect(other.messages.slice(before).some((m) => m.type === 'notification_read')).toBe(false);

    client.close();
    other.close();
    const back = await ws('zoe');
    await back.waitFor(() => back.messages.filter((m) => m.type === 'notification').length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(back.messages.filter((m) => m.type === 'notification').map((m) => m.title)).toEqual(['two', 'three']);
  });

  it('WebSocket: live delivery to the right users; general reaches everyone', async () => {
    const gil = await ws('gil');
    const hal = await ws('hal');
    await notify(server.url, { user_id: 'gil', title: 'for gil' });
    await gil.waitFor((m) => m.type === 'notification' && m.title === 'for gil');
    await notify(server.url, { channel: 'general', title: 'for all' });
    await gil.waitFor((m) => m.title === 'for all');
    const toHal = await hal.waitFor((m) => m.title === 'for all');
    expect(toHal).toMatchObject({ type: 'notification', channel: 'general', title: 'for all' });
    expect(hal.messages.some((m) => m.title === 'for gil')).toBe(false);
  });

  it('channels: custom topics for anyone, never another user’s channel, jobs elsewhere, presence through the hook', async () => {
    const ivy = await ws('ivy');
    const jon = await ws('jon');
    ivy.send({ type: 'subscribe_channel', channel: 'team-42' });
    expect(await ivy.waitForType('subscribed')).toMatchObject({ channel: 'team-42' });
    await notify(server.url, { channel: 'team-42', title: 'standup' });
    await ivy.waitFor((m) => m.type === 'notification' && m.channel === 'team-42' && m.title === 'standup');

    const refused: [string, string][] = [
      ['user_ivy', 'PERMISSION_DENIED'],
      ['jobs.some-job', 'PERMISSION_DENIED'],
      ['presence.deck1', 'PERMISSION_DENIED'],
      ['not a channel', 'INVALID_MESSAGE'],
      ['', 'INVALID_MESSAGE'],
    ];
    for (const [channel, code] of refused) {
      const from = jon.messages.length;
      jon.send({ type: 'subscribe_channel', channel });
      expect(await jon.waitFor((m) => m.type === 'error', 5000, `error for ${channel}`, from), channel).toMatchObject({ error_code: code });
    }
    // Presence channels follow the access policy: jon becomes a viewer of deck1 (and of nothing else).
    expect((await call(server.url, 'PUT', '/api/v1/presentations/deck1', { token: mintToken('deck-owner') })).status).toBe(201);
    expect(
      (await call(server.url, 'PUT', '/api/v1/presentations/deck1/members/jon', { token: mintToken('deck-owner'), body: { role: 'viewer' } })).status,
    ).toBe(200);
    expect((await call(server.url, 'PUT', '/api/v1/presentations/deck2', { token: mintToken('deck-owner') })).status).toBe(201);
    jon.send({ type: 'subscribe_channel', channel: 'presence.deck1' });
    await jon.waitFor((m) => m.type === 'subscribed' && m.channel === 'presence.deck1');
    const from = jon.messages.length;
    jon.send({ type: 'subscribe_channel', channel: 'presence.deck2' });
    expect(await jon.waitFor((m) => m.type === 'error', 5000, 'presence error', from)).toMatchObject({ error_code: 'PERMISSION_DENIED' });
    expect(jon.messages.some((m) => m.title === 'standup')).toBe(false);

    ivy.send({ type: 'unsubscribe_channel', channel: 'team-42' });
    await ivy.waitFor((m) => m.type === 'unsubscribed' && m.channel === 'team-42');
    await notify(server.url, { channel: 'team-42', title: 'after' });
    await notify(server.url, { user_id: 'ivy', title: 'marker' });
    await ivy.waitFor((m) => m.title === 'marker');
    expect(ivy.messages.some((m) => m.title === 'after')).toBe(false);
  });

  it('SSE: unread first, then live; the cursor resumes every channel with no gap and no repeat; bad cursors reset', async () => {
    const token = mintToken('kim');
    await notify(server.url, { user_id: 'kim', title: 'waiting' });
    const first = await sse(`${notificationsSse(server.url, token)}&channels=ops`);
    await first.waitFor((e) => e.json?.title === 'waiting');
    await notify(server.url, { user_id: 'kim', title: 'live 1' });
    await notify(server.url, { channel: 'ops', title: 'ops 1' });
    await first.waitFor((e) => e.json?.title === 'ops 1');
    expect(first.events.map((e) => e.json.title)).toEqual(['waiting', 'live 1', 'ops 1']);
    expect(first.events.every((e) => e.event === 'message' && e.json?.type === 'notification' && e.id)).toBe(true);
    const cursor = first.lastEventId()!;
    first.close();

    await notify(server.url, { user_id: 'kim', title: 'missed 1' });
    await notify(server.url, { channel: 'general', title: 'missed 2' });
    await notify(server.url, { channel: 'ops', title: 'missed 3' });
    await notify(server.url, { user_id: 'lou', title: 'not for kim' });

    const resumed = await sse(`${notificationsSse(server.url, token)}&channels=ops`, { 'last-event-id': cursor });
    await resumed.waitForCount(3);
    await notify(server.url, { user_id: 'kim', title: 'live 2' });
    await resumed.waitForCount(4);
    await new Promise((r) => setTimeout(r, 100));
    expect(resumed.events.map((e) => e.json.title).sort()).toEqual(['live 2', 'missed 1', 'missed 2', 'missed 3']);
    expect(resumed.events[3]!.json.title).toBe('live 2');

    const reset = await sse(notificationsSse(server.url, token), { 'last-event-id': 'garbage' });
    const event = await reset.waitFor((e) => e.json?.type === 'reset');
    expect(event.json).toMatchObject({ type: 'reset', channels: ['general', 'user_kim'], unread_count: 4 });
    await reset.waitForCount(5);
    expect(reset.events.slice(1).map((e) => e.json.title)).toEqual(['waiting', 'live 1', 'missed 1', 'live 2']);

    const denied = await sse(`${notificationsSse(server.url, token)}&channels=user_lou`);
    expect(denied.status).toBe(403);
    expect(denied.error.error_code).toBe('PERMISSION_DENIED');
  });

  it('retention: read notifications and broadcasts older than NOTIFICATION_RETENTION_HOURS are purged, unread ones stay', async () => {
    const [oldRead, oldUnread, recentRead] = (await notify(server.url, { user_ids: ['max', 'ned', 'oli'] })).body.notifications;
    const oldBroadcast = (await notify(server.url, { channel: 'general', title: 'old news' })).body.notifications[0];
    await call(server.url, 'POST', `/api/v1/notifications/${oldRead.id}/read`, { token: mintToken('max') });
    await call(server.url, 'POST', `/api/v1/notifications/${recentRead.id}/read`, { token: mintToken('oli') });
    await queryDb(databaseUrl, `UPDATE notifications SET created_at = now() - interval '25 hours' WHERE id = ANY($1::uuid[])`, [
      [oldRead.id, oldUnread.id, oldBroadcast.id],
    ]);
    const purged = await server.app.deckhand.notifications.purgeExpired();
    expect(purged).toBeGreaterThanOrEqual(2);
    const left = await queryDb<{ id: string }>(databaseUrl, 'SELECT id FROM notifications WHERE id = ANY($1::uuid[])', [
      [oldRead.id, oldUnread.id, recentRead.id, oldBroadcast.id],
    ]);
    expect(left.map((r) => r.id).sort()).toEqual([oldUnread.id, recentRead.id].sort());
  });
});
