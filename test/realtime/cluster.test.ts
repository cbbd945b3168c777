/**
 * Two instances sharing Postgres and Redis behave as one: an event posted to A reaches WebSocket and SSE subscribers
 * on B, broadcasts reach every user on both, an SSE stream resumes on the other instance (an EventSource behind a
 * "load balancer" whose instance goes away), and a history trimmed in Redis resumes as a `reset`.
 */
import { randomBytes } from 'node:crypto';
import { EventSource } from 'eventsource';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../helpers/collab-client.js';
import { createTestDatabase } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { openSse, type SseClient } from '../helpers/sse.js';
import { call, createJob, generationSse, generationWs, notificationsSse, notificationsWs, notify, postProgress } from './support.js';

describe('two instances sharing Redis', () => {
  let a: TestServer;
  let b: TestServer;
  let databaseUrl: string;
  const prefix = `cluster-${randomBytes(4).toString('hex')}`;
  const sockets: JsonWsClient[] = [];
  const streams: SseClient[] = [];

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('cluster');
    const env = { DATABASE_URL: databaseUrl, REDIS_URL: inject('redisUrl'), REDIS_PREFIX: prefix };
    [a, b] = await Promise.all([startServer(env), startServer(env)]);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const s of streams) s.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  const ws = async (url: string, first = 'connected') => {
    const client = await openJsonWs(url);
    sockets.push(client);
    await client.waitForType(first);
    return client;
  };
  const sse = async (url: string, headers?: Record<string, string>) => {
    const client = await openSse(url, headers);
    streams.push(client);
    return client;
  };

  it('a job update posted to A reaches WebSocket and SSE subscribers on B, in order', async () => {
    const { job_id: id } = await createJob(a.url, { user_id: 'alice' });
    const token = mintToken('alice');
    const onB = await ws(generationWs(b.url, id, token), 'job_progress');
    const sseOnB = await sse(generationSse(b.url, id, token));
    await sseOnB.waitForCount(1);
    for (let i = 1; i <= 10; i++) await postProgress(i % 2 ? a.url : b.url, id, { status: 'processing', progress: i / 10 });
    await postProgress(a.url, id, { status: 'completed' });
    await onB.waitFor((m) => m.data?.status === 'completed');
    await sseOnB.waitFor((e) => e.json?.data?.status === 'completed');
    const expected = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1];
    expect(onB.messages.filter((m) => m.type === 'job_progress').map((m) => m.data.progress)).toEqual(expected);
    expect(sseOnB.events.map((e) => e.json.data.progress)).toEqual(expected);
  });

  it('a broadcast reaches every user on both instances; a user notification reaches only that user, wherever connected', async () => {
    const users = ['u1', 'u2', 'u3', 'u4'];
    const clients = await Promise.all(users.map((u, i) => ws(notificationsWs(i % 2 ? b.url : a.url, mintToken(u)))));
    const sseOnB = await sse(notificationsSse(b.url, mintToken('u5')));
    await notify(a.url, { channel: 'general', title: 'to everyone' });
    await Promise.all(clients.map((c) => c.waitFor((m) => m.title === 'to everyone')));
    await sseOnB.waitFor((e) => e.json?.title === 'to everyone');

    await notify(b.url, { user_id: 'u1', title: 'just u1' });
    await clients[0]!.waitFor((m) => m.title === 'just u1');
    await notify(a.url, { user_id: 'u4', title: 'marker' });
    await clients[3]!.waitFor((m) => m.title === 'marker');
    for (const c of clients.slice(1)) expect(c.messages.some((m) => m.title === 'just u1')).toBe(false);
  });

  it('mark_read on one instance is announced to the user’s tabs on the other', async () => {
    const onA = await ws(notificationsWs(a.url, mintToken('reader')));
    const onB = await ws(notificationsWs(b.url, mintToken('reader')));
    const sent = (await notify(a.url, { user_id: 'reader', title: 'read me' })).body.notifications[0];
    await onB.waitFor((m) => m.type === 'notification' && m.id === sent.id);
    onA.send({ type: 'mark_read', id: sent.id });
    await onB.waitFor((m) => m.type === 'notification_read' && m.id === sent.id);
    const unread = await call(b.url, 'GET', '/api/v1/notifications?unread=true', { token: mintToken('reader') });
    expect(unread.body.notifications).toEqual([]);
  });

  it('SSE resumes on B from an id issued by A with no gap and no repeat; a trimmed history resumes as reset', async () => {
    const { job_id: id } = await createJob(a.url, { user_id: 'bob' });
    const token = mintToken('bob');
    const onA = await sse(generationSse(a.url, id, token));
    await onA.waitForCount(1);
    await postProgress(a.url, id, { status: 'processing', progress: 0.1 });
    await onA.waitForCount(2);
    const resumeFrom = onA.lastEventId()!;
    onA.close();
    for (let i = 2; i <= 4; i++) await postProgress(b.url, id, { status: 'processing', progress: i / 10 });
    const onB = await sse(generationSse(b.url, id, token), { 'last-event-id': resumeFrom });
    await onB.waitForCount(3);
    expect(onB.events.map((e) => e.json.data.progress)).toEqual([0.2, 0.3, 0.4]);
    const latest = onB.lastEventId()!;
    onB.close();

    // Redis keeps a capped history; when it no longer covers the gap the stream starts over with `reset`.
    await postProgress(a.url, id, { status: 'processing', progress: 0.5 });
    await postProgress(a.url, id, { status: 'processing', progress: 0.6 });
    const redis = new Redis(inject('redisUrl'));
    try {
      await redis.xtrim(`${prefix}:bus:stream:jobs.${id}`, 'MAXLEN', 1);
    } finally {
      redis.disconnect();
    }
    const afterTrim = await sse(generationSse(a.url, id, token), { 'last-event-id': latest });
    const reset = await afterTrim.waitFor((e) => e.json?.type === 'reset');
    expect(reset.json.data.progress).toBe(0.6);
    expect(afterTrim.events).toHaveLength(1);
  });

  it('an EventSource whose instance shuts down reconnects to the other and misses nothing', async () => {
    const { job_id: id } = await createJob(b.url, { user_id: 'carl' });
    let target = a.url;
    const received: { id: string; progress: number; type: string }[] = [];
    // The "load balancer": every (re)connection goes to the current target instance.
    const source = new EventSource(generationSse(a.url, id, mintToken('carl')), {
      fetch: (url, init) => fetch(String(url).replace(a.url, target), init),
    });
    // Unnamed events: onmessage gets every one, the JSON's `type` says which.
    source.onmessage = (e: MessageEvent) => {
      const message = JSON.parse(e.data);
      received.push({ id: e.lastEventId, type: message.type, progress: message.data.progress });
    };
    try {
      await waitFor(() => received.length === 1, 10_000, 'the current state');
      await postProgress(b.url, id, { status: 'processing', progress: 0.1 });
      await waitFor(() => received.length === 2, 10_000, 'first update');
      target = b.url;
      await a.close(); // SSE streams end; the EventSource retries (after `retry:`) against B with Last-Event-ID
      await postProgress(b.url, id, { status: 'processing', progress: 0.2 });
      await postProgress(b.url, id, { status: 'processing', progress: 0.3 });
      await waitFor(() => received.length >= 4, 15_000, 'replay on B');
      await postProgress(b.url, id, { status: 'processing', progress: 0.4 });
      await waitFor(() => received.length >= 5, 10_000, 'live on B');
      expect(received.map((e) => [e.type, e.progress])).toEqual([
        ['job_progress', 0],
        ['job_progress', 0.1],
        ['job_progress', 0.2],
        ['job_progress', 0.3],
        ['job_progress', 0.4],
      ]);
    } finally {
      source.close();
    }
  });
});
