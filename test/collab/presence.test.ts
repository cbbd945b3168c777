import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { PresenceEvent, PresenceSnapshot } from '../../shared/presence.js';
import { openClient, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { startPair, type TestPair } from '../helpers/cluster.js';
import { mintToken, type TestServer } from '../helpers/server.js';
import { openSse, type SseClient } from '../helpers/sse.js';

describe('presence across instances', () => {
  let a: TestServer;
  let b: TestServer;
  let pair: TestPair | undefined;
  const clients: CollabClient[] = [];
  const sockets: WebSocket[] = [];
  const streams: SseClient[] = [];

  beforeAll(async () => {
    pair = await startPair('presence');
    ({ a, b } = pair);
    const res = await fetch(`${a.url}/api/v1/presentations/deck`, { method: 'PUT', headers: { authorization: `Bearer ${mintToken('olga')}` } });
    expect(res.status).toBe(201);
    for (const user of ['hana', 'ivan', 'dora']) {
      await fetch(`${a.url}/api/v1/presentations/deck/members/${user}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${mintToken('olga')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'editor' }),
      });
    }
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const s of sockets) s.close();
    for (const s of streams) s.close();
    await pair?.close();
  });

  async function presence(server: TestServer, user = 'olga'): Promise<{ status: number; body: PresenceSnapshot }> {
    const res = await fetch(`${server.url}/api/v1/presentations/deck/presence`, { headers: { authorization: `Bearer ${mintToken(user)}` } });
    return { status: res.status, body: (await res.json()) as PresenceSnapshot };
  }

  it('lists who is connected with status and slide, and streams joins, updates and leaves to a dashboard', async () => {
    // A JSON dashboard (no Yjs) follows presence.deck on the notifications socket of instance B.
    const events: PresenceEvent[] = [];
    const replies: Array<{ type: string; error_code?: string; channel?: string }> = [];
    const dash = new WebSocket(`${b.wsUrl.replace('/collab', '/realtime/notifications')}?token=${mintToken('olga')}`);
    sockets.push(dash);
    dash.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (['user_joined', 'user_left', 'presence_update'].includes(m.type)) events.push(m);
      else replies.push(m);
    });
    await new Promise((r) => dash.once('open', r));
    dash.send(JSON.stringify({ type: 'subscribe_channel', channel: 'presence.deck' }));
    await waitFor(() => replies.some((m) => m.type === 'subscribed' && m.channel === 'presence.deck'), 5000, 'subscribed');

    const hana = openClient({ url: a.wsUrl, presentationId: 'deck', token: mintToken('hana', { name: 'Hana' }) });
    const ivan = openClient({ url: b.wsUrl, presentationId: 'deck', token: mintToken('ivan', { name: 'Ivan' }) });
    clients.push(hana, ivan);
    await Promise.all([waitSynced(hana), waitSynced(ivan)]);
    hana.provider.setAwarenessField('presence', { slide_id: 's2', status: 'active' });
    ivan.provider.setAwarenessField('presence', { slide_id: 's5', status: 'idle' });

    await waitFor(() => events.filter((e) => e.type === 'user_joined').length >= 2, 5000, 'two joins');
    for (const server of [a, b]) {
      let snapshot: PresenceSnapshot | undefined;
      const deadline = Date.now() + 5000;
      do {
        snapshot = (await presence(server)).body;
        if (snapshot.users.length === 2 && snapshot.users.every((u) => u.slide_id)) break;
        await new Promise((r) => setTimeout(r, 50));
      } while (Date.now() < deadline);
      expect(snapshot!.users.map((u) => [u.user_id, u.name, u.status, u.slide_id, u.connections])).toEqual([
        ['hana', 'Hana', 'active', 's2', 1],
        ['ivan', 'Ivan', 'idle', 's5', 1],
      ]);
    }

    hana.provider.setAwarenessField('presence', { slide_id: 's3', status: 'active' });
    await waitFor(() => events.some((e) => e.type === 'presence_update' && e.user.user_id === 'hana' && e.slide_id === 's3'), 5000, 'slide change');
    // Cursor moves are not presence changes.
    const before = events.length;
    for (let i = 0; i < 5; i++) hana.provider.setAwarenessField('cursor', { index: i });
    await new Promise((r) => setTimeout(r, 300));
    expect(events.length).toBe(before);

    ivan.destroy();
    await waitFor(() => events.some((e) => e.type === 'user_left' && e.user.user_id === 'ivan'), 5000, 'ivan left');
    expect((await presence(a)).body.users.map((u) => u.user_id)).toEqual(['hana']);
  });

  it('is for members only', async () => {
    expect((await presence(a, 'mallory')).status).toBe(403);
    const replies: Array<{ type: string; error_code?: string }> = [];
    const ws = new WebSocket(`${a.wsUrl.replace('/collab', '/realtime/notifications')}?token=${mintToken('mallory')}`);
    sockets.push(ws);
    ws.on('message', (data) => replies.push(JSON.parse(String(data))));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'subscribe_channel', channel: 'presence.deck' }));
    await waitFor(() => replies.some((m) => m.error_code === 'PERMISSION_DENIED'), 5000, 'refused');
  });

  it('a member removed from the presentation stops receiving its presence events, on the socket and over SSE', async () => {
    // dora follows presence.deck on instance B's notifications socket and SSE stream; she is removed through A.
    const events: PresenceEvent[] = [];
    const replies: Array<{ type: string; error_code?: string; channel?: string }> = [];
    const dash = new WebSocket(`${b.wsUrl.replace('/collab', '/realtime/notifications')}?token=${mintToken('dora')}`);
    sockets.push(dash);
    dash.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (['user_joined', 'user_left', 'presence_update'].includes(m.type)) events.push(m);
      else replies.push(m);
    });
    await new Promise((r) => dash.once('open', r));
    dash.send(JSON.stringify({ type: 'subscribe_channel', channel: 'presence.deck' }));
    await waitFor(() => replies.some((m) => m.type === 'subscribed' && m.channel === 'presence.deck'), 5000, 'subscribed');
    const sse = await openSse(`${b.url}/api/v1/realtime/sse/notifications?channels=presence.deck`, { authorization: `Bearer ${mintToken('dora')}` });
    streams.push(sse);
    const sseEvents = () => sse.events.filter((e) => ['user_joined', 'user_left', 'presence_update'].includes(e.json?.type));
    // A member who stays, to show that the events dora no longer gets are still published.
    const olga = await openSse(`${b.url}/api/v1/realtime/sse/notifications?channels=presence.deck`, { authorization: `Bearer ${mintToken('olga')}` });
    streams.push(olga);

    const first = openClient({ url: a.wsUrl, presentationId: 'deck', token: mintToken('ivan', { name: 'Ivan' }) });
    clients.push(first);
    await waitSynced(first);
    first.provider.setAwarenessField('presence', { slide_id: 's1', status: 'active' });
    await waitFor(() => events.some((e) => e.user.user_id === 'ivan') && sseEvents().length > 0, 5000, 'dora sees ivan');
    await olga.waitFor((e) => e.json?.user?.user_id === 'ivan', 5000, 'olga sees ivan');

    const removed = await fetch(`${a.url}/api/v1/presentations/deck/members/dora`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${mintToken('olga')}` },
    });
    expect(removed.status).toBe(204);
    await waitFor(() => replies.some((m) => m.type === 'unsubscribed' && m.channel === 'presence.deck'), 2000, 'unsubscribed on removal');
    expect(replies.some((m) => m.error_code === 'PERMISSION_DENIED')).toBe(true);
    await sse.waitFor((e) => e.json?.error_code === 'PERMISSION_DENIED', 2000, 'SSE told');

    const seen = events.length;
    const seenOverSse = sseEvents().length;
    const later = openClient({ url: b.wsUrl, presentationId: 'deck', token: mintToken('hana', { name: 'Hana' }) });
    clients.push(later);
    await waitSynced(later);
    later.provider.setAwarenessField('presence', { slide_id: 's9', status: 'active' });
    first.provider.setAwarenessField('presence', { slide_id: 's2', status: 'idle' });
    later.provider.setAwarenessField('presence', { slide_id: 's8', status: 'active' });
    await olga.waitFor((e) => e.json?.slide_id === 's8', 5000, 'a member sees the later change');
    expect(events.length).toBe(seen);
    expect(sseEvents().length).toBe(seenOverSse);
  });
});
