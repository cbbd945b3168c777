/**
 * Operations: GET /realtime/stats, GET /metrics (a registry per app: two apps in one process never mix numbers),
 * the OpenAPI document covering every realtime route, and shutdown (sockets 1012, SSE streams ended).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openClient, waitFor, waitSynced } from '../helpers/collab-client.js';
import { createTestDatabase } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { openSse } from '../helpers/sse.js';
import { adminToken, call, createJob, generationWs, notificationsSse, notificationsWs, notify, postProgress } from './support.js';

describe('realtime operations', () => {
  let server: TestServer;
  let other: TestServer;
  let databaseUrl: string;
  const sockets: JsonWsClient[] = [];

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('ops');
    [server, other] = await Promise.all([startServer({ DATABASE_URL: databaseUrl }), startServer({ DATABASE_URL: databaseUrl })]);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.all([server?.close(), other?.close()]);
  });

  const ws = async (url: string, first: string) => {
    const client = await openJsonWs(url);
    sockets.push(client);
    await client.waitForType(first);
    return client;
  };

  it('stats: connections, messages and errors per manager, active jobs, documents, locks', async () => {
    const { job_id: id } = await createJob(server.url, { user_id: 'olga' });
    const follower = await ws(generationWs(server.url, id, mintToken('olga')), 'job_progress');
    const listener = await ws(notificationsWs(server.url, mintToken('olga')), 'connected');
    await postProgress(server.url, id, { status: 'processing', progress: 0.5 });
    await follower.waitFor((m) => m.data?.progress === 0.5);
    listener.send('garbage');
    await listener.waitForType('error');
    const collab = openClient({ url: server.wsUrl, presentationId: 'ops-deck', token: mintToken('olga') });
    try {
      await waitSynced(collab);
      const res = await call(server.url, 'GET', '/api/v1/realtime/stats', { token: adminToken() });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        managers: {
          generation: { connections: 1, messages_sent: expect.any(Number), errors: 0 },
          notifications: { connections: 1, errors: 1 },
          collaboration: { connections: 1, messages_sent: null },
        },
        active_jobs: expect.any(Number),
        documents: 1,
        locks: 0,
        bus: 'memory',
      });
      expect(res.body.managers.generation.messages_sent).toBeGreaterThanOrEqual(3); // connected, state, update
      expect(res.body.active_jobs).toBeGreaterThanOrEqual(1);
      expect(res.body.uptime_seconds).toBeGreaterThanOrEqual(0);
    } finally {
      collab.destroy();
    }
  });

  it('stats and metrics count refused /collab frames as collaboration errors', async () => {
    const errorsOf = async () =>
      (await call(server.url, 'GET', '/api/v1/realtime/stats', { token: adminToken() })).body.managers.collaboration.errors;
    const before: number = await errorsOf();
    const raw = new WebSocket(server.wsUrl);
    await new Promise((resolve, reject) => {
      raw.on('open', resolve);
      raw.on('error', reject);
    });
    const code = await new Promise<number>((resolve) => {
      raw.on('close', (c) => resolve(c));
      raw.send('not a binary frame');
    });
    expect(code).toBe(1003);
    expect(await errorsOf()).toBe(before + 1);
    const text: string = (await call(server.url, 'GET', '/metrics', { token: adminToken() })).body;
    expect(text).toMatch(new RegExp(`deckhand_collab_refused_frames_total ${before + 1}\\b`));
    expect(text).toMatch(/deckhand_collab_locks \d+/);
  });

  it('metrics: deckhand_bus_publishes_total counts each accepted progress step once, on every scrape', async () => {
    const publishes = async () => {
      const text: string = (await call(server.url, 'GET', '/metrics', { token: adminToken() })).body;
      const line = /^deckhand_bus_publishes_total\{result="ok"\} (\d+)$/m.exec(text);
      return line ? Number(line[1]) : 0;
    };
    const job = (await createJob(server.url, { user_id: 'ops-counter' })) as { job_id: string };
    const before = await publishes();
    for (const progress of [0.1, 0.2, 0.3]) expect((await postProgress(server.url, job.job_id, { status: 'processing', progress })).status).toBe(200);
    expect(await publishes()).toBe(before + 3);
    expect(await publishes()).toBe(before + 3);
  });

  it('metrics: Prometheus text from a registry per app', async () => {
    const sse = await openSse(notificationsSse(server.url, mintToken('pia')));
    try {
      await notify(server.url, { channel: 'general', title: 'hello' });
      await sse.waitFor((e) => e.json?.title === 'hello');
      const res = await call(server.url, 'GET', '/metrics', { token: adminToken() });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text: string = res.body;
      expect(text).toMatch(/deckhand_realtime_connections\{manager="notifications",transport="sse"\} 1/);
      expect(text).toMatch(/deckhand_realtime_connections\{manager="generation",transport="ws"\} 1/);
      expect(text).toMatch(/deckhand_realtime_messages_sent_total\{manager="notifications",transport="sse"\} [1-9]/);
      expect(text).toMatch(/deckhand_realtime_messages_sent_total\{manager="generation",transport="ws"\} [1-9]/);
      expect(text).toMatch(/deckhand_realtime_delivery_latency_seconds_bucket\{le="[^"]+",channel_kind="general"\} [1-9]/);
      expect(text).toMatch(/deckhand_realtime_errors_total\{manager="notifications",code="INVALID_MESSAGE"\} 1/);
      expect(text).toMatch(/deckhand_bus_publishes_total\{result="ok"\} [1-9]/);
      expect(text).toMatch(/deckhand_collab_documents \d+/);
      expect(text).toMatch(/deckhand_collab_connections \d+/);
      expect(text).toMatch(/deckhand_process_cpu_seconds_total/);

      // The other app in this process counts only its own connections.
      const theirs: string = (await call(other.url, 'GET', '/metrics', { token: adminToken() })).body;
      expect(theirs).not.toMatch(/deckhand_realtime_connections\{manager="notifications",transport="sse"\} 1/);
      expect(theirs).not.toMatch(/deckhand_realtime_errors_total\{manager="notifications",code="INVALID_MESSAGE"\}/);
    } finally {
      sse.close();
    }
  });

  it('OpenAPI: every realtime route is documented with its schema and error responses', async () => {
    const res = await call(server.url, 'GET', '/docs/json');
    expect(res.status).toBe(200);
    const paths = res.body.paths;
    const expected: [string, string][] = [
      ['/api/v1/jobs', 'post'],
      ['/api/v1/jobs/{id}', 'get'],
      ['/api/v1/jobs/{id}/progress', 'post'],
      ['/api/v1/notifications', 'post'],
      ['/api/v1/notifications', 'get'],
      ['/api/v1/notifications/{id}/read', 'post'],
      ['/api/v1/realtime/generation/{job_id}', 'get'],
      ['/api/v1/realtime/notifications', 'get'],
      ['/api/v1/realtime/sse/generation/{job_id}', 'get'],
      ['/api/v1/realtime/sse/notifications', 'get'],
      ['/api/v1/realtime/stats', 'get'],
      ['/metrics', 'get'],
    ];
    for (const [path, method] of expected) {
      const operation = paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation.summary, `${method} ${path}`).toBeTruthy();
    }
    const progress = paths['/api/v1/jobs/{id}/progress'].post;
    expect(Object.keys(progress.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '409']));
    expect(progress.requestBody.content['application/json'].schema.properties.status).toBeDefined();
    expect(paths['/api/v1/notifications'].post.requestBody.content['application/json'].schema.properties.notification_type).toBeDefined();
    // A plain GET on a WebSocket endpoint says what it is.
    const plain = await call(server.url, 'GET', '/api/v1/realtime/notifications', { token: mintToken('x') });
    expect(plain.status).toBe(400);
    expect(plain.body.message).toMatch(/WebSocket/);
  });

  it('shutdown: JSON sockets close with 1012, SSE streams end', async () => {
    const databaseUrl2 = await createTestDatabase('opsdown');
    const doomed = await startServer({ DATABASE_URL: databaseUrl2 });
    const socket = await openJsonWs(notificationsWs(doomed.url, mintToken('quinn')));
    await socket.waitForType('connected');
    const stream = await openSse(notificationsSse(doomed.url, mintToken('quinn')));
    expect(stream.status).toBe(200);
    await doomed.close();
    expect(await socket.closed).toMatchObject({ code: 1012 });
    await stream.ended;
    await waitFor(() => stream.isEnded(), 1000);
  });
});
