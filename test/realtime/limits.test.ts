/**
 * Limits of the JSON sockets through real clients: 500 garbage frames leave the socket and the server healthy, an
 * oversized frame gets PAYLOAD_TOO_LARGE and close 1009, the message rate is a token bucket, connections per user are
 * capped, and a reader that stops reading is cut off at the outbound buffer cap while the others keep receiving.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/collab-client.js';
import { createTestDatabase } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { openSse, type SseClient } from '../helpers/sse.js';
import { adminToken, call, createJob, generationWs, notificationsSse, notificationsWs, notify } from './support.js';

/** Frames a confused or hostile client might send: binary noise, broken JSON, JSON of the wrong shape. */
function garbageFrame(i: number): string | Buffer {
  const shapes: unknown[] = [
    null,
    42,
    'ping',
    [],
    [{ type: 'ping' }],
    {},
    { type: 42 },
    { type: 'nope' },
    { type: 'subscribe_job' },
    { type: 'subscribe_job', job_id: '' },
    { type: 'subscribe_job', job_id: '../../etc/passwd' },
    { type: 'subscribe_job', job_id: 'x'.repeat(500) },
    { type: 'subscribe_channel', channel: 7 },
    { type: 'mark_read', id: 'not-a-uuid' },
    { type: 'auth' },
    { type: 'auth', token: 7 },
    { type: '__proto__', ['__proto__']: { polluted: true } },
    { type: 'ping'.repeat(1000) },
  ];
  switch (i % 4) {
    case 0:
      return randomBytes(1 + (i % 300)); // binary
    case 1:
      return `{"type":"ping"${'}'.repeat(i % 3)}${randomBytes(8).toString('base64')}`; // broken JSON
    case 2:
      return JSON.stringify(shapes[i % shapes.length]);
    default:
      return randomBytes(1 + (i % 200)).toString('base64'); // printable noise
  }
}

describe('realtime limits', () => {
  let server: TestServer;
  const sockets: JsonWsClient[] = [];
  const streams: SseClient[] = [];

  beforeAll(async () => {
    const databaseUrl = await createTestDatabase('limits');
    server = await startServer({
      DATABASE_URL: databaseUrl,
      WEBSOCKET_MAX_CONNECTIONS_PER_USER: '3',
      WS_OUTBOUND_BUFFER_BYTES: String(64 * 1024),
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const s of streams) s.close();
    await server?.close();
  });

  const ws = async (url: string) => {
    const client = await openJsonWs(url);
    sockets.push(client);
    return client;
  };
  const stats = async () => (await call(server.url, 'GET', '/api/v1/realtime/stats', { token: adminToken() })).body;

  it('500 garbage frames on each kind of socket: INVALID_MESSAGE (or RATE_LIMIT_EXCEEDED), socket and server healthy', async () => {
    const { job_id: jobId } = await createJob(server.url, { user_id: 'gina' });
    const generation = await ws(generationWs(server.url, jobId, mintToken('gina')));
    const notifications = await ws(notificationsWs(server.url, mintToken('gina')));
    await generation.waitForType('job_progress');
    await notifications.waitForType('connected');
    for (const client of [generation, notifications]) {
      const from = client.messages.length;
      for (let i = 0; i < 500; i++) client.send(garbageFrame(i));
      await waitFor(() => client.messages.length - from >= 100, 10_000, 'error replies');
      await new Promise((r) => setTimeout(r, 200));
      const replies = client.messages.slice(from);
      expect(replies.every((m) => m.type === 'error')).toBe(true);
      const codes = new Set(replies.map((m) => m.error_code));
      expect([...codes].every((c) => c === 'INVALID_MESSAGE' || c === 'RATE_LIMIT_EXCEEDED')).toBe(true);
      // The bucket holds 100: the first 100 frames were each answered with INVALID_MESSAGE.
      expect(replies.slice(0, 100).every((m) => m.error_code === 'INVALID_MESSAGE')).toBe(true);
      expect(replies.some((m) => m.error_code === 'RATE_LIMIT_EXCEEDED')).toBe(true);
      expect(client.closeInfo).toBeUndefined();
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Once the bucket refills the sockets work as before.
    await new Promise((r) => setTimeout(r, 300));
    generation.send({ type: 'ping' });
    notifications.send({ type: 'ping' });
    await generation.waitFor((m) => m.type === 'pong');
    await notifications.waitFor((m) => m.type === 'pong');
    await call(server.url, 'POST', `/api/v1/jobs/${jobId}/progress`, {
      token: mintToken('w', { scope: 'jobs:write' }),
      body: { status: 'processing', progress: 0.7 },
    });
    await generation.waitFor((m) => m.type === 'job_progress' && m.data.progress === 0.7);
    expect((await call(server.url, 'GET', '/health')).status).toBe(200);
  });

  it('each message gets its own INVALID_MESSAGE with a usable reason', async () => {
    const client = await ws(notificationsWs(server.url, mintToken('hugo')));
    await client.waitForType('connected');
    const cases: [string | Buffer, RegExp][] = [
      ['{not json', /not valid JSON/],
      ['[1,2]', /JSON object/],
      ['{"type":"teleport"}', /unknown message type/],
      ['{"type":"mark_read","id":"nope"}', /invalid mark_read/],
      [Buffer.from([1, 2, 3]), /binary/],
    ];
    for (const [frame, reason] of cases) {
      const from = client.messages.length;
      client.send(frame);
      const error = await client.waitFor((m) => m.type === 'error', 5000, String(reason), from);
      expect(error.error_code).toBe('INVALID_MESSAGE');
      expect(error.message).toMatch(reason);
      expect(error.timestamp).toBeTruthy();
    }
  });

  it('a frame over 1 MiB gets PAYLOAD_TOO_LARGE and close 1009; the server goes on', async () => {
    const client = await ws(notificationsWs(server.url, mintToken('ida')));
    await client.waitForType('connected');
    client.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(1024 * 1024) }));
    expect(await client.closed).toMatchObject({ code: 1009 });
    expect(client.messages.find((m) => m.type === 'error')).toMatchObject({ error_code: 'PAYLOAD_TOO_LARGE' });
    const next = await ws(notificationsWs(server.url, mintToken('ida')));
    await next.waitForType('connected');
    next.send({ type: 'ping' });
    await next.waitForType('pong');
  });

  it('message rate: a burst of 100, then RATE_LIMIT_EXCEEDED; tokens come back at 10/s', async () => {
    const client = await ws(notificationsWs(server.url, mintToken('jan')));
    await client.waitForType('connected');
    for (let i = 0; i < 150; i++) client.send({ type: 'ping' });
    await client.waitFor((m) => m.error_code === 'RATE_LIMIT_EXCEEDED');
    await new Promise((r) => setTimeout(r, 100));
    const pongs = client.messages.filter((m) => m.type === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(100);
    expect(pongs).toBeLessThan(150);
    await new Promise((r) => setTimeout(r, 500));
    const from = client.messages.length;
    client.send({ type: 'ping' });
    await client.waitFor((m) => m.type === 'pong', 5000, 'pong after refill', from);
  });

  it('connections per user per endpoint kind are capped (WebSocket 4429, SSE 429); a slot frees on close', async () => {
    const url = notificationsWs(server.url, mintToken('kai'));
    const open = [await ws(url), await ws(url), await ws(url)];
    await Promise.all(open.map((c) => c.waitForType('connected')));
    const fourth = await ws(url);
    expect(await fourth.closed).toMatchObject({ code: 4429 });
    expect(fourth.messages[0]).toMatchObject({ type: 'error', error_code: 'RATE_LIMIT_EXCEEDED' });
    // Another endpoint kind has its own count.
    const { job_id: jobId } = await createJob(server.url, { user_id: 'kai' });
    const generation = await ws(generationWs(server.url, jobId, mintToken('kai')));
    await generation.waitForType('job_progress');

    const sse = await Promise.all([1, 2, 3].map(() => openSse(notificationsSse(server.url, mintToken('kai')))));
    streams.push(...sse);
    expect(sse.map((s) => s.status)).toEqual([200, 200, 200]);
    const refused = await openSse(notificationsSse(server.url, mintToken('kai')));
    expect(refused.status).toBe(429);
    expect(refused.error.error_code).toBe('RATE_LIMIT_EXCEEDED');

    open[0]!.close();
    await open[0]!.closed;
    await waitFor(() => true, 100);
    const again = await ws(url);
    await again.waitForType('connected', 5000);
  });

  it('a backlog larger than the cap (unread on connect) is paced by the reader, not cut as slow', async () => {
    const pad = 'y'.repeat(100 * 1024);
    for (let i = 0; i < 60; i++) expect((await notify(server.url, { user_id: 'backlog', title: `b${i}`, data: { pad } })).status).toBe(201);
    const socket = await ws(notificationsWs(server.url, mintToken('backlog')));
    await socket.waitFor(() => socket.messages.filter((m) => m.type === 'notification').length === 60, 20_000, 'the backlog');
    const stream = await openSse(notificationsSse(server.url, mintToken('backlog')));
    streams.push(stream);
    await stream.waitForCount(60, 20_000);
    expect(stream.events.map((e) => e.json.title)).toEqual(Array.from({ length: 60 }, (_, i) => `b${i}`));
    socket.send({ type: 'ping' });
    await socket.waitForType('pong');
    expect(socket.closeInfo).toBeUndefined();
    expect(stream.isEnded()).toBe(false);
  });

  it('a reader that stops reading is cut off at the outbound buffer cap; the others receive everything', async () => {
    const slowWs = await ws(notificationsWs(server.url, mintToken('slow')));
    await slowWs.waitForType('connected');
    const slowSse = await openSse(notificationsSse(server.url, mintToken('slow-sse')));
    streams.push(slowSse);
    const fastWs = await ws(notificationsWs(server.url, mintToken('fast')));
    await fastWs.waitForType('connected');
    const fastSse = await openSse(notificationsSse(server.url, mintToken('fast-sse')));
    streams.push(fastSse);
    const before = await stats();

    // Stop reading: the kernel buffers fill, then the server's outbound buffer grows past the cap.
    (slowWs.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    slowSse.pause();
    const pad = 'x'.repeat(200 * 1024);
    let sent = 0;
    const fastWsCount = () => fastWs.messages.filter((m) => m.type === 'notification').length;
    for (; sent < 400; sent++) {
      const res = await notify(server.url, { channel: 'general', title: `big ${sent}`, data: { pad } });
      expect(res.status).toBe(201);
      // Each event is three times the cap: the readers that do read take it before the next is sent, so only the
      // stopped ones can fall behind, however slow this machine is.
      await fastWs.waitFor(() => fastWsCount() === sent + 1, 20_000, `notification ${sent} on the fast socket`);
      await fastSse.waitForCount(sent + 1, 20_000);
      if (sent % 10 === 9) {
        const now = await stats();
        if (now.managers.notifications.connections <= before.managers.notifications.connections - 2) break;
      }
    }
    const after = await stats();
    expect(after.managers.notifications.connections).toBe(before.managers.notifications.connections - 2);
    expect(after.managers.notifications.errors).toBeGreaterThan(before.managers.notifications.errors);
    const total = sent + 1;
    await fastWs.waitFor(() => fastWs.messages.filter((m) => m.type === 'notification').length === total, 20_000, 'all notifications');
    await fastSse.waitForCount(total, 20_000);
    expect(fastSse.events.map((e) => e.json.title)).toEqual(Array.from({ length: total }, (_, i) => `big ${i}`));

    const metrics = await call(server.url, 'GET', '/metrics', { token: adminToken() });
    expect(metrics.body).toMatch(/deckhand_realtime_disconnects_total\{manager="notifications",reason="slow_consumer"\} 2/);
  });
});
