/**
 * Authentication and authorization on every realtime route and socket: the token matrix (missing,
 * garbage, alg none, expired, wrong key, no exp, user token on a service route) over REST, WebSocket (error, then
 * close 4401) and SSE (401 JSON); scopes; expiry of open connections and token refresh; Origin allowlist; and no
 * token in any log line of a real server process logging at trace level.
 */
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, startServer, startServerProcess, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { openSse } from '../helpers/sse.js';
import { adminToken, call, createJob, generationSse, generationWs, notificationsSse, notificationsWs, workerToken } from './support.js';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const exp = () => Math.floor(Date.now() / 1000) + 3600;

const BAD_TOKENS: Record<string, () => string> = {
  garbage: () => 'not-a-jwt',
  'alg none': () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', exp: exp(), scope: 'admin' })}.`,
  expired: () => mintToken('alice', { expiresIn: -60 }),
  'wrong key': () => mintToken('alice', { secret: 'another-secret-0123456789abcdef', scope: 'admin' }),
  'no exp': () => jwt.sign({ sub: 'alice' }, TEST_SECRET, { algorithm: 'HS256' }),
  'HS512 with the right secret': () => jwt.sign({ sub: 'alice', exp: exp() }, TEST_SECRET, { algorithm: 'HS512' }),
};

describe('realtime auth', () => {
  let server: TestServer;
  let databaseUrl: string;
  let jobId: string;
  const sockets: JsonWsClient[] = [];

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('rtauth');
    server = await startServer({ DATABASE_URL: databaseUrl, CORS_ORIGINS: 'https://app.example' });
    jobId = (await createJob(server.url, { user_id: 'alice' })).job_id;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await server?.close();
  });

  const ws = async (url: string, options?: Parameters<typeof openJsonWs>[1]) => {
    const client = await openJsonWs(url, options);
    sockets.push(client);
    return client;
  };

  const restRoutes = (): [string, string, unknown?][] => [
    ['POST', '/api/v1/jobs', { user_id: 'alice', kind: 'k' }],
    ['GET', `/api/v1/jobs/${jobId}`],
    ['POST', `/api/v1/jobs/${jobId}/progress`, { status: 'processing', progress: 0.5 }],
    ['POST', '/api/v1/notifications', { user_id: 'alice', title: 't', message: 'm' }],
    ['GET', '/api/v1/notifications'],
    ['POST', '/api/v1/notifications/00000000-0000-4000-8000-000000000000/read'],
    ['GET', '/api/v1/realtime/stats'],
    ['GET', '/metrics'],
  ];

  it.each(Object.entries(BAD_TOKENS))('%s: 401 AUTHENTICATION_FAILED on every REST route and SSE stream', async (_name, token) => {
    for (const [method, path, body] of [
      ...restRoutes(),
      ['GET', '/api/v1/realtime/sse/notifications'],
      ['GET', `/api/v1/realtime/sse/generation/${jobId}`],
    ] as [string, string, unknown?][]) {
      const res = await call(server.url, method, path, { token: token(), body });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body).toMatchObject({ type: 'error', error_code: 'AUTHENTICATION_FAILED' });
      expect(JSON.stringify(res.body)).not.toContain(token());
    }
    const viaQuery = await openSse(notificationsSse(server.url, token()));
    expect(viaQuery.status).toBe(401);
  });

  it.each(Object.entries(BAD_TOKENS))('%s: WebSockets get AUTHENTICATION_FAILED, then close 4401', async (_name, token) => {
    for (const url of [generationWs(server.url, jobId, token()), notificationsWs(server.url, token())]) {
      const client = await ws(url);
      expect(await client.closed).toMatchObject({ code: 4401 });
      expect(client.messages).toHaveLength(1);
      expect(client.messages[0]).toMatchObject({ type: 'error', error_code: 'AUTHENTICATION_FAILED' });
    }
  });

  it('no token at all: 401 on REST and SSE, 4401 on sockets', async () => {
    for (const [method, path] of restRoutes()) expect((await call(server.url, method, path)).status, path).toBe(401);
    const socket = await ws(`${server.url.replace('http', 'ws')}/api/v1/realtime/notifications`);
    expect(await socket.closed).toMatchObject({ code: 4401 });
  });

  it('scopes: a user token on service routes is 403 PERMISSION_DENIED; the right scope or admin passes', async () => {
    const user = mintToken('alice');
    for (const [method, path, body] of restRoutes()
      .filter(([m, p]) => m === 'POST' && !p.endsWith('/read'))
      .concat([
        ['GET', '/api/v1/realtime/stats'],
        ['GET', '/metrics'],
      ] as [string, string][])) {
      const res = await call(server.url, method, path, { token: user, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error_code).toBe('PERMISSION_DENIED');
    }
    const notifier = mintToken('n', { scope: 'notifications:write' });
    expect((await call(server.url, 'POST', `/api/v1/jobs/${jobId}/progress`, { token: notifier, body: { status: 'processing' } })).status).toBe(403);
    const admin = adminToken();
    expect((await call(server.url, 'POST', `/api/v1/jobs/${jobId}/progress`, { token: admin, body: { status: 'processing' } })).status).toBe(200);
    expect((await call(server.url, 'GET', '/metrics', { token: mintToken('prom', { scope: 'metrics:read' }) })).status).toBe(200);
    expect((await call(server.url, 'GET', '/api/v1/realtime/stats', { token: admin })).status).toBe(200);
  });

  it('Authorization: Bearer works for sockets and streams as well as ?token=', async () => {
    const headers = { authorization: `Bearer ${mintToken('alice')}` };
    const client = await ws(`${server.url.replace('http', 'ws')}/api/v1/realtime/generation/${jobId}`, { headers });
    await client.waitForType('job_progress');
    const stream = await openSse(`${server.url}/api/v1/realtime/sse/generation/${jobId}`, headers);
    try {
      expect(stream.status).toBe(200);
      await stream.waitForCount(1);
    } finally {
      stream.close();
    }
  });

  it('an expiring token closes the socket with AUTHENTICATION_FAILED (4401); a fresh token sent in time keeps it open', async () => {
    const short = () => mintToken('alice', { expiresIn: 2 });
    const expiring = await ws(notificationsWs(server.url, short()));
    const refreshed = await ws(notificationsWs(server.url, short()));
    await refreshed.waitForType('connected');
    refreshed.send({ type: 'auth', token: mintToken('alice', { expiresIn: 600 }) });
    expect(await refreshed.waitForType('authenticated')).toMatchObject({ token_expires_at: expect.any(String) });
    refreshed.send({ type: 'auth', token: mintToken('bob') });
    expect(await refreshed.waitForType('error')).toMatchObject({ error_code: 'PERMISSION_DENIED' });

    expect(await expiring.closed).toMatchObject({ code: 4401 });
    expect(expiring.messages.at(-1)).toMatchObject({ type: 'error', error_code: 'AUTHENTICATION_FAILED' });
    await new Promise((r) => setTimeout(r, 300));
    expect(refreshed.closeInfo).toBeUndefined();
    refreshed.send({ type: 'ping' });
    await refreshed.waitForType('pong');

    const stream = await openSse(generationSse(server.url, jobId, short()));
    await stream.ended;
    expect(stream.events.at(-1)).toMatchObject({ event: 'message', json: { type: 'error', error_code: 'AUTHENTICATION_FAILED' } });
  });

  it('Origin allowlist: a foreign origin is refused on upgrades (4403) and SSE (403); the allowed one passes', async () => {
    const foreign = await ws(notificationsWs(server.url, mintToken('alice')), { origin: 'https://evil.example' });
    expect(await foreign.closed).toMatchObject({ code: 4403 });
    expect(foreign.messages[0]).toMatchObject({ error_code: 'PERMISSION_DENIED' });
    const allowed = await ws(notificationsWs(server.url, mintToken('alice')), { origin: 'https://app.example' });
    await allowed.waitForType('connected');
    const sse = await openSse(notificationsSse(server.url, mintToken('alice')), { origin: 'https://evil.example' });
    expect(sse.status).toBe(403);
    expect(sse.error.error_code).toBe('PERMISSION_DENIED');
  });

  it('no token reaches a log line, even at trace level with request logging', async () => {
    const proc = await startServerProcess({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'trace' });
    try {
      const tokens = [mintToken('alice'), workerToken(), ...Object.values(BAD_TOKENS).map((t) => t())];
      const { job_id: id } = await createJob(proc.url, { user_id: 'alice' });
      for (const token of tokens) {
        await call(proc.url, 'GET', `/api/v1/jobs/${id}?token=${encodeURIComponent(token)}`);
        await call(proc.url, 'GET', `/api/v1/jobs/${id}`, { token });
        await call(proc.url, 'POST', `/api/v1/jobs/${id}/progress`, { token, body: { status: 'processing' } });
        const socket = await openJsonWs(generationWs(proc.url, id, token));
        socket.send({ type: 'auth', token });
        socket.send('{"type":"auth","token":');
        await new Promise((r) => setTimeout(r, 50));
        socket.close();
        const stream = await openSse(generationSse(proc.url, id, token));
        stream.close();
      }
      await new Promise((r) => setTimeout(r, 300));
      const output = proc.output();
      expect(output).toContain('"url"');
      for (const token of tokens) {
        expect(output).not.toContain(token);
        expect(output).not.toContain(token.split('.')[2] || token);
      }
    } finally {
      await proc.terminate();
    }
  });
});
