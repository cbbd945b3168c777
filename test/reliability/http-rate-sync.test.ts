/**
 * The HTTP rate limit's stated tolerance with two instances (server/limits/http-rate-sync.ts), attacked with bursts
 * that HTTP/1.1 pipelining puts in one event-loop turn of one instance: never refused before the instances together
 * counted `max`, and no instance admits requests long after the total passed `max`, also one that had not served the
 * key for a while (its last known total is stale) or never.
 */
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { type RedisServer, startRedis } from '../helpers/redis.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { call } from '../realtime/support.js';

const MAX = 20;
/** The default interval: a round trip to Redis on a loaded machine stays well within it. */
const SYNC_MS = 100;
const token = mintToken('worker', { scope: 'jobs:write' });

const servers: TestServer[] = [];
const redis = new Redis(inject('redisUrl'));
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  redis.disconnect();
});

async function startPair(name: string, redisUrl = inject('redisUrl'), syncMs = SYNC_MS): Promise<{ a: TestServer; b: TestServer; counter: string }> {
  const prefix = `${name}${Date.now()}`;
  const env = {
    DATABASE_URL: await createTestDatabase(name),
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    HTTP_RATE_LIMIT_MAX: String(MAX),
    HTTP_RATE_LIMIT_WINDOW_MS: '600000',
    HTTP_RATE_LIMIT_SYNC_MS: String(syncMs),
  };
  const [a, b] = await Promise.all([startServer(env), startServer(env)]);
  servers.push(a, b);
  // The shared counter of the test client's key (its address).
  return { a, b, counter: `${prefix}:rl:127.0.0.1` };
}

const hit = async (server: TestServer) => (await call(server.url, 'GET', '/api/v1/jobs/nope', { token })).status;
const counted = async (counter: string) => Number(await redis.get(counter));

/** `n` requests pipelined in one write on one connection (they reach the instance in one turn); their statuses. */
function pipelined(server: TestServer, n: number): Promise<number[]> {
  const { hostname, port } = new URL(server.url);
  const request = (last: boolean) =>
    `GET /api/v1/jobs/nope HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\n` +
    `Connection: ${last ? 'close' : 'keep-alive'}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (out += d));
    socket.on('error', reject);
    socket.on('end', () => resolve([...out.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))));
    socket.write(Array.from({ length: n }, (_, i) => request(i === n - 1)).join(''));
  });
}

describe('HTTP rate limit: bursts on an instance whose known total is stale', () => {
  it('an instance that served the key once, long before the total passed MAX, refuses a later burst', async () => {
    const { a, b, counter } = await startPair('ratestale');
    expect(await hit(a)).toBe(404);
    await expect.poll(() => counted(counter), { timeout: 5000, interval: 5 }).toBe(1);
    // B takes the key past MAX (B refuses from some point on; every request is counted).
    for (let i = 0; i < MAX + 4; i++) await hit(b);
    await expect.poll(() => counted(counter), { timeout: 5000, interval: 5 }).toBe(MAX + 5);
    // Well past three sync intervals (and a round trip) after the total passed MAX.
    const passed = Date.now();
    await expect.poll(() => Date.now() - passed > 4 * SYNC_MS, { interval: SYNC_MS / 4 }).toBe(true);
    const statuses = await pipelined(a, 10);
    expect(statuses, JSON.stringify(statuses)).toEqual(Array(10).fill(429));
  });

  it('an instance that never served the key refuses a burst once the total passed MAX elsewhere', async () => {
    const { a, b, counter } = await startPair('ratefresh');
    for (let i = 0; i < MAX; i++) expect(await hit(b)).toBe(404);
    await expect.poll(() => counted(counter), { timeout: 5000, interval: 5 }).toBe(MAX);
    const statuses = await pipelined(a, 10);
    expect(statuses, JSON.stringify(statuses)).toEqual(Array(10).fill(429));
  });

  it('a burst of 2 x MAX in one turn on a fresh instance: exactly the first MAX admitted, in order', async () => {
    const { a, counter } = await startPair('rateburst1');
    const statuses = await pipelined(a, 2 * MAX);
    expect(statuses, JSON.stringify(statuses)).toEqual([...Array(MAX).fill(404), ...Array(MAX).fill(429)]);
    await expect.poll(() => counted(counter), { timeout: 5000, interval: 5 }).toBe(2 * MAX);
  });
});

describe('HTTP rate limit: Redis slow, down and back, shutdown', () => {
  let own: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    own = await startRedis();
    client = new Redis(own.url);
  });
  afterAll(async () => {
    client.disconnect();
    await own.stop();
  });

  it('a request waiting for its total is answered alone when Redis does not answer within an interval', async () => {
    const { a } = await startPair('rateslow', own.url);
    // Every write (the round's script) waits until the pause ends; the request must not. (The demo page: a route that
    // uses no Redis itself; the paused script holds up every later command of the instance's Redis connection.)
    await client.call('CLIENT', 'PAUSE', '600000', 'WRITE');
    try {
      const res = await fetch(`${a.url}/`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(MAX - 1));
    } finally {
      await client.call('CLIENT', 'UNPAUSE');
    }
  }, 10_000);

  it('a reply that arrives while the instance is busy for longer than an interval still gives the waiting requests their total', async () => {
    const { a, b, counter } = await startPair('ratebusy', own.url);
    expect(await hit(a)).toBe(404);
    for (let i = 0; i < MAX + 4; i++) await hit(b);
    await expect.poll(async () => Number(await client.get(counter)), { timeout: 5000, interval: 5 }).toBe(MAX + 5);
    // A's known total (1) goes stale: its next requests wait for a round.
    const stale = Date.now();
    await expect.poll(() => Date.now() - stale > 3 * SYNC_MS, { interval: SYNC_MS }).toBe(true);
    // Redis holds the round's script for a while; meanwhile this process (the instances' too) is busy for longer than
    // that and than an interval, so the reply is already there when A's timer for a slow Redis fires.
    const paused = performance.now();
    await client.call('CLIENT', 'PAUSE', String(4 * SYNC_MS), 'WRITE');
    const burst = pipelined(a, 10);
    const known = () => a.app.deckhand.httpRate!.read('127.0.0.1').current;
    await expect.poll(known, { timeout: 2 * SYNC_MS, interval: 1 }).toBe(11);
    // Busy in the check phase (setImmediate): the next turn starts with the timers, then the I/O.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        while (performance.now() - paused < 8 * SYNC_MS) {
          // Busy: no timer, no I/O.
        }
        resolve();
      }),
    );
    const statuses = await burst;
    expect(statuses, JSON.stringify(statuses)).toEqual(Array(10).fill(429));
  });

  it('counts made while Redis is down reach it once it is back, with no further request', async () => {
    const { a, counter } = await startPair('ratedown', own.url);
    client.disconnect();
    await own.stop();
    for (let i = 0; i < 3; i++) expect(await hit(a)).toBe(404);
    own = await startRedis(own.port);
    client = new Redis(own.url);
    await expect.poll(async () => Number(await client.get(counter)), { timeout: 10_000, interval: 20 }).toBe(3);
  }, 20_000);

  it('shutdown sends the counts no round carried yet', async () => {
    // An interval so long that only the shutdown can send the last counts.
    const { a, counter } = await startPair('rateclose', own.url, 60_000);
    expect(await hit(a)).toBe(404);
    for (let i = 0; i < 3; i++) expect(await hit(a)).toBe(404);
    expect(Number(await client.get(counter))).toBe(1);
    await a.close();
    expect(Number(await client.get(counter))).toBe(4);
  });
});
