/**
 * Per-user limits with more than one instance: WEBSOCKET_MAX_CONNECTIONS_PER_USER is counted across
 * instances through Redis (server/limits), for WebSockets and SSE; a slot is freed on close, on an aborted request,
 * and when its instance stops refreshing it (dies); an unreachable Redis degrades to a per-instance limit. The message
 * rate is a token bucket per connection: a connection that keeps flooding is cut (RATE_LIMIT_EXCEEDED, 4429) while
 * other connections on the same instance, of another user or of the same one, keep every delivery.
 */
import http from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisConnectionCounter } from '../../server/limits/index.js';
import { waitFor } from '../helpers/collab-client.js';
import { createTestDatabase } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { freePort } from '../helpers/ports.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { openSse, type SseClient } from '../helpers/sse.js';
import {
  adminToken,
  call,
  createJob,
  generationSse,
  generationWs,
  notificationsSse,
  notificationsWs,
  notify,
  postProgress,
} from '../realtime/support.js';

const LIMIT = 2;

describe('per-user limits across instances (Redis)', () => {
  let a: TestServer;
  let b: TestServer;
  let prefix: string;
  const sockets: JsonWsClient[] = [];
  const streams: SseClient[] = [];
  const clients: Redis[] = [];

  beforeAll(async () => {
    prefix = `lc${Date.now()}`;
    const env = {
      DATABASE_URL: await createTestDatabase('limitscluster'),
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: prefix,
      WEBSOCKET_MAX_CONNECTIONS_PER_USER: String(LIMIT),
      HTTP_RATE_LIMIT_MAX: '100000',
    };
    [a, b] = await Promise.all([startServer(env), startServer(env)]);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const s of streams) s.close();
    for (const c of clients) c.disconnect();
    await Promise.all([a?.close(), b?.close()]);
  });

  const ws = async (url: string) => {
    const client = await openJsonWs(url);
    sockets.push(client);
    return client;
  };
  const sse = async (url: string) => {
    const stream = await openSse(url);
    streams.push(stream);
    return stream;
  };
  const counter = (server: TestServer) => server.app.deckhand.connections;

  it.each([
    ['notifications', (base: string, user: string) => notificationsWs(base, mintToken(user)), 'connected'],
    ['generation', (base: string, user: string, jobId?: string) => generationWs(base, jobId!, mintToken(user)), 'job_progress'],
  ] as const)('%s WebSocket: two on A, the third on B is refused (error, then 4429); after one closes, B admits one', async (kind, url, ready) => {
    const user = `cap-${kind}`;
    const { job_id: jobId } = await createJob(a.url, { user_id: user });
    const first = [await ws(url(a.url, user, jobId)), await ws(url(a.url, user, jobId))];
    await Promise.all(first.map((c) => c.waitForType(ready)));
    expect(await counter(b).count(`${kind}-ws`, user)).toBe(2);

    const third = await ws(url(b.url, user, jobId));
    expect(await third.closed).toMatchObject({ code: 4429 });
    expect(third.messages).toHaveLength(1);
    expect(third.messages[0]).toMatchObject({ type: 'error', error_code: 'RATE_LIMIT_EXCEEDED', timestamp: expect.any(String) });
    // Another user is not affected; neither is another endpoint kind of the same user.
    await (await ws(url(b.url, `${user}-other`, (await createJob(a.url, { user_id: `${user}-other` })).job_id))).waitForType(ready);
    const otherKind = await sse(kind === 'notifications' ? notificationsSse(b.url, mintToken(user)) : generationSse(b.url, jobId, mintToken(user)));
    expect(otherKind.status).toBe(200);

    first[0]!.close();
    await first[0]!.closed;
    await waitFor(() => true, 0);
    const again = await waitForAdmission(() => ws(url(b.url, user, jobId)), ready);
    expect(again.closeInfo).toBeUndefined();
    expect(await counter(a).count(`${kind}-ws`, user)).toBe(2);
  });

  /** The release is a ZREM sent when the close is seen: retry briefly instead of racing it. */
  async function waitForAdmission(open: () => Promise<JsonWsClient>, ready: string): Promise<JsonWsClient> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const client = await open();
      const outcome = await Promise.race([client.waitForType(ready, 3000).then(() => 'ok'), client.closed.then(() => 'closed')]);
      if (outcome === 'ok') return client;
      if (Date.now() > deadline) throw new Error(`not admitted: ${JSON.stringify(client.messages)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('SSE: two streams on A, the third on B gets 429 RATE_LIMIT_EXCEEDED; after one ends, B admits one', async () => {
    const user = 'cap-sse';
    const open = [await sse(notificationsSse(a.url, mintToken(user))), await sse(notificationsSse(a.url, mintToken(user)))];
    expect(open.map((s) => s.status)).toEqual([200, 200]);
    const refused = await sse(notificationsSse(b.url, mintToken(user)));
    expect(refused.status).toBe(429);
    expect(refused.error).toMatchObject({ type: 'error', error_code: 'RATE_LIMIT_EXCEEDED' });
    open[0]!.close();
    await waitFor(() => a.app.deckhand.streaming.sse.size <= 1, 5000, 'stream closed on A');
    const deadline = Date.now() + 3000;
    let again = await sse(notificationsSse(b.url, mintToken(user)));
    while (again.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      again = await sse(notificationsSse(b.url, mintToken(user)));
    }
    expect(again.status).toBe(200);
  });

  it('SSE requests aborted before their stream opens leave no slot, stream or subscription behind', async () => {
    const user = 'aborter';
    const { job_id: jobId } = await createJob(a.url, { user_id: user });
    const target = new URL(generationSse(a.url, jobId, mintToken(user)));
    const before = a.app.deckhand.streaming.sse.size;
    for (let i = 0; i < 60; i++) {
      await new Promise<void>((resolve) => {
        const req = http.get(target, { headers: { accept: 'text/event-stream' } });
        req.on('error', () => resolve());
        req.on('close', () => resolve());
        // Abort at varying points: before the request is read, during auth, while the slot is taken.
        setTimeout(() => req.destroy(), i % 6);
      });
    }
    await waitFor(() => a.app.deckhand.streaming.sse.size === before, 5000, 'no stream left open');
    await expect.poll(() => counter(a).count('generation-sse', user), { timeout: 5000 }).toBe(0);
    // The user still has every slot.
    const [s1, s2] = [await sse(target.href), await sse(target.href)];
    expect([s1.status, s2.status]).toEqual([200, 200]);
  });

  it('a live instance keeps its slots past the TTL; a dead one (no more refreshes) loses them within the TTL', async () => {
    const dying = new Redis(inject('redisUrl'));
    const survivor = new Redis(inject('redisUrl'));
    clients.push(dying, survivor);
    const ttlMs = 600;
    const onDying = new RedisConnectionCounter({ redis: dying, prefix: `${prefix}x`, maxPerUser: 2, ttlMs });
    const onSurvivor = new RedisConnectionCounter({ redis: survivor, prefix: `${prefix}x`, maxPerUser: 2, ttlMs });
    expect(await onDying.acquire('notifications-ws', 'zoe')).toBeTypeOf('function');
    expect(await onDying.acquire('notifications-ws', 'zoe')).toBeTypeOf('function');
    expect(await onSurvivor.acquire('notifications-ws', 'zoe')).toBeNull();
    await new Promise((r) => setTimeout(r, 3 * ttlMs));
    expect(await onSurvivor.acquire('notifications-ws', 'zoe'), 'refreshed slots still count').toBeNull();
    expect(await onSurvivor.count('notifications-ws', 'zoe')).toBe(2);

    dying.disconnect(); // the instance is gone: no refresh, no release
    const died = Date.now();
    let admitted: (() => void) | null = null;
    while (!admitted && Date.now() - died < 5 * ttlMs) {
      admitted = await onSurvivor.acquire('notifications-ws', 'zoe');
      if (!admitted) await new Promise((r) => setTimeout(r, 50));
    }
    expect(admitted).toBeTypeOf('function');
    expect(Date.now() - died).toBeLessThan(2 * ttlMs);
    await Promise.all([onDying.close(), onSurvivor.close()]);
  });

  it('Redis unreachable: the limit holds per instance instead of refusing everyone', async () => {
    const dead = new Redis(`redis://127.0.0.1:${await freePort()}`, { maxRetriesPerRequest: 1, retryStrategy: () => 200, lazyConnect: false });
    dead.on('error', () => {});
    clients.push(dead);
    const counter = new RedisConnectionCounter({ redis: dead, prefix: `${prefix}d`, maxPerUser: 2, timeoutMs: 300 });
    const started = Date.now();
    const first = await counter.acquire('generation-ws', 'yan');
    const second = await counter.acquire('generation-ws', 'yan');
    const third = await counter.acquire('generation-ws', 'yan');
    expect(first).toBeTypeOf('function');
    expect(second).toBeTypeOf('function');
    expect(third).toBeNull();
    expect(Date.now() - started).toBeLessThan(3000);
    first!();
    expect(await counter.acquire('generation-ws', 'yan')).toBeTypeOf('function');
    await counter.close();
  });

  it('a flooding connection is cut with RATE_LIMIT_EXCEEDED (4429); other connections on the instance keep every delivery', async () => {
    const { job_id: jobId } = await createJob(a.url, { user_id: 'calm' });
    const calm = await ws(notificationsWs(a.url, mintToken('calm')));
    const calmJob = await ws(generationWs(a.url, jobId, mintToken('calm')));
    const flooder = await ws(notificationsWs(a.url, mintToken('flood')));
    const flooderOtherTab = await ws(notificationsWs(a.url, mintToken('flood')));
    await Promise.all([
      calm.waitForType('connected'),
      calmJob.waitForType('job_progress'),
      flooder.waitForType('connected'),
      flooderOtherTab.waitForType('connected'),
    ]);

    const frame = JSON.stringify({ type: 'ping' });
    const flooding = (async () => {
      for (let i = 0; i < 4000 && flooder.ws.readyState === flooder.ws.OPEN; i++) {
        flooder.ws.send(frame);
        if (i % 200 === 199) await new Promise((r) => setImmediate(r));
      }
    })();
    const published: string[] = [];
    const progress: number[] = [];
    const publishing = (async () => {
      for (let i = 1; i <= 40; i++) {
        const title = `calm ${i}`;
        expect((await notify(a.url, { user_id: 'calm', title })).status).toBe(201);
        published.push(title);
        const p = Math.round((i / 40) * 1000) / 1000;
        expect((await postProgress(a.url, jobId, { status: 'processing', progress: p })).status).toBe(200);
        progress.push(p);
      }
    })();
    await Promise.all([flooding, publishing]);

    expect(await flooder.closed).toMatchObject({ code: 4429, reason: 'RATE_LIMIT_EXCEEDED' });
    const errors = flooder.messages.filter((m) => m.type === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.every((m) => m.error_code === 'RATE_LIMIT_EXCEEDED')).toBe(true);
    expect(errors.at(-1)!.message).toMatch(/disconnected/);
    // No more than the burst and its refill were served (queued answers may be discarded by the cut).
    expect(flooder.messages.filter((m) => m.type === 'pong').length).toBeLessThan(200);

    await calm.waitFor(() => calm.messages.filter((m) => m.type === 'notification').length === published.length, 10_000, 'every notification');
    expect(calm.messages.filter((m) => m.type === 'notification').map((m) => m.title)).toEqual(published);
    await calmJob.waitFor((m) => m.type === 'job_progress' && m.data.progress === 1, 10_000, 'the last state');
    expect(
      calmJob.messages
        .filter((m) => m.type === 'job_progress')
        .slice(1)
        .map((m) => m.data.progress),
    ).toEqual(progress);
    for (const client of [calm, calmJob, flooderOtherTab]) {
      const from = client.messages.length;
      client.send({ type: 'ping' });
      await client.waitFor((m) => m.type === 'pong', 5000, 'pong', from);
      expect(client.closeInfo).toBeUndefined();
    }
    const metrics = await call(a.url, 'GET', '/metrics', { token: adminToken() });
    expect(metrics.body).toMatch(/deckhand_realtime_disconnects_total\{manager="notifications",reason="flood"\} 1/);
  });
});

/**
 * The HTTP rate limit with two instances (server/limits/http-rate-sync.ts): each counts locally, and sends its counts
 * to Redis and learns the total in rounds that go out with its requests (at most one per HTTP_RATE_LIMIT_SYNC_MS; a
 * timer sends what no later request carried, two intervals after the last round). Stated tolerance: never refused
 * before the instances together counted `max`; at most `max` plus what reaches each instance within three sync
 * intervals (and a round trip) after the total passed it is admitted.
 */
describe('HTTP rate limit across instances (local counts synced through Redis)', () => {
  const MAX = 20;
  const SYNC_MS = 25;
  const pairs: TestServer[] = [];
  const redis = new Redis(inject('redisUrl'));
  afterAll(async () => {
    await Promise.all(pairs.map((s) => s.close()));
    redis.disconnect();
  });

  async function startPair(name: string): Promise<[[TestServer, TestServer], string]> {
    const prefix = `${name}${Date.now()}`;
    const env = {
      DATABASE_URL: await createTestDatabase(name),
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: prefix,
      HTTP_RATE_LIMIT_MAX: String(MAX),
      HTTP_RATE_LIMIT_WINDOW_MS: '600000',
      HTTP_RATE_LIMIT_SYNC_MS: String(SYNC_MS),
    };
    const pair = await Promise.all([startServer(env), startServer(env)]);
    pairs.push(...pair);
    // The shared counter of the test client's key (its address).
    return [pair, `${prefix}:rl:127.0.0.1`];
  }
  const token = mintToken('worker', { scope: 'jobs:write' });
  const hit = async (server: TestServer) => (await call(server.url, 'GET', '/api/v1/jobs/nope', { token })).status;
  /** What an instance knows of the test client's count. */
  const known = (server: TestServer) => server.app.deckhand.httpRate!.read('127.0.0.1').current;

  it('requests alternating between A and B, each counted in Redis before the next: refused from MAX + 1 on', async () => {
    const [[a, b], counter] = await startPair('ratesync');
    const statuses: number[] = [];
    for (let i = 0; i < 2 * MAX; i++) {
      statuses.push(await hit(i % 2 ? b : a));
      // Each count reaches Redis with no further request (the round of the request's turn, or the fallback timer).
      await expect.poll(async () => Number(await redis.get(counter)), { timeout: 5000, interval: 5 }).toBe(i + 1);
    }
    // Never refused before MAX. Each instance learns the other's last request at its own next round, so the request
    // after the MAX-th may still pass on one of them; none after it does.
    expect(
      statuses.slice(0, MAX).every((s) => s === 404),
      JSON.stringify(statuses),
    ).toBe(true);
    expect(statuses[MAX], JSON.stringify(statuses)).toBeOneOf([404, 429]);
    expect(
      statuses.slice(MAX + 1).every((s) => s === 429),
      JSON.stringify(statuses),
    ).toBe(true);
    // Each knows the total as of its own last round: B took the last request (its round's reply may still be on the
    // way when Redis already counts it), A the one before it.
    await expect.poll(() => known(b), { timeout: 5000 }).toBe(2 * MAX);
    expect(known(a)).toBe(2 * MAX - 1);
  });

  it('a burst on both at once: never refused before MAX, admitted stays within MAX plus three sync intervals of requests', async () => {
    const [[a, b]] = await startPair('rateburst');
    const log: { started: number; status: number }[] = [];
    const stream = async (server: TestServer) => {
      for (let i = 0; i < 3 * MAX; i++) {
        const started = performance.now();
        log.push({ started, status: await hit(server) });
      }
    };
    await Promise.all([stream(a), stream(a), stream(b), stream(b)]);
    const admitted = log.filter((r) => r.status === 404).length;
    // Never refused before MAX were counted: every request went on until the end.
    expect(admitted).toBeGreaterThanOrEqual(MAX);
    // Over-admission: at most the requests already under way (4) and those that started within three sync intervals
    // (plus a margin for timers on a busy machine) after the MAX-th one started.
    const starts = log.map((r) => r.started).sort((x, y) => x - y);
    const maxth = starts[MAX - 1]!;
    const slack = 4 + starts.filter((t) => t > maxth && t <= maxth + 3 * SYNC_MS + 50).length;
    expect(admitted).toBeLessThanOrEqual(MAX + slack);
    expect(admitted, 'the limit is shared, not per instance').toBeLessThan(2 * MAX);
  });
});
