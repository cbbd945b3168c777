/**
 * What every HTTP answer carries besides its body: the CORS headers (CORS_ORIGINS: an allowlist, or `*` for any
 * origin; credentials allowed; preflights answered 204 before authentication and the rate limit) and the HTTP rate
 * limit's headers and 429 (HTTP_RATE_LIMIT_MAX per HTTP_RATE_LIMIT_WINDOW_MS and client address, counted before
 * authentication, 404s of unknown routes included; preflights and health not counted). Checked header by
 * header, as browsers and clients see them.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { adminToken, call, createJob } from '../realtime/support.js';

const APP = 'https://app.example';
const CORS_HEADERS = [
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'vary',
];
const RATE_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'];

/** The listed headers of an answer (absent ones left out). */
function pick(headers: Headers, names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (headers.has(name) ? [[name, headers.get(name)!]] : [])));
}

describe('CORS', () => {
  let listed: TestServer;
  let any: TestServer;
  beforeAll(async () => {
    [listed, any] = await Promise.all([
      startServer({ DATABASE_URL: await createTestDatabase('cors_listed'), CORS_ORIGINS: `${APP}, https://other.example` }),
      startServer({ DATABASE_URL: await createTestDatabase('cors_any') }),
    ]);
  });
  afterAll(async () => Promise.all([listed?.close(), any?.close()]));

  it('a listed origin is allowed with credentials, a foreign one gets no Allow-Origin, and every answer varies by Origin', async () => {
    const job = await createJob(listed.url, { user_id: 'ana' });
    const get = (origin?: string) =>
      call(listed.url, 'GET', `/api/v1/jobs/${job.job_id}`, { token: mintToken('ana'), headers: origin ? { origin } : {} });
    for (const origin of [APP, 'https://other.example']) {
      const res = await get(origin);
      expect(res.status).toBe(200);
      expect(pick(res.headers, CORS_HEADERS), origin).toEqual({
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        vary: 'Origin',
      });
    }
    for (const res of [await get('https://evil.example'), await get()]) {
      expect(res.status).toBe(200);
      expect(pick(res.headers, CORS_HEADERS)).toEqual({ 'access-control-allow-credentials': 'true', vary: 'Origin' });
    }
    // Errors and 404s too.
    const missing = await call(listed.url, 'GET', '/api/v1/no-such-route', { headers: { origin: APP } });
    expect(missing.status).toBe(404);
    expect(pick(missing.headers, CORS_HEADERS)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    });
    const refused = await call(listed.url, 'GET', `/api/v1/jobs/${job.job_id}`, { headers: { origin: APP } });
    expect(refused.status).toBe(401);
    expect(pick(refused.headers, CORS_HEADERS)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    });
  });

  it('CORS_ORIGINS unset (`*`): whatever the origin, it is reflected', async () => {
    for (const origin of [APP, 'https://anywhere.example', 'null']) {
      const res = await call(any.url, 'GET', '/api/v1/no-such-route', { headers: { origin } });
      expect(pick(res.headers, CORS_HEADERS), origin).toEqual({
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        vary: 'Origin',
      });
    }
  });

  it('a preflight is answered 204 before authentication, with the methods and the requested headers; without a method it is 400', async () => {
    for (const [server, origin, allowOrigin] of [
      [listed, APP, APP],
      [listed, 'https://evil.example', undefined],
      [any, 'https://anywhere.example', 'https://anywhere.example'],
    ] as const) {
      const res = await call(server.url, 'OPTIONS', '/api/v1/jobs/some-job/progress', {
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      expect(res.status, origin).toBe(204);
      expect(res.body).toBe('');
      expect(pick(res.headers, [...CORS_HEADERS, ...RATE_HEADERS, 'content-length']), origin).toEqual({
        ...(allowOrigin ? { 'access-control-allow-origin': allowOrigin } : {}),
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'GET,HEAD,POST',
        'access-control-allow-headers': 'authorization, content-type',
        vary: 'Origin, Access-Control-Request-Headers',
        'content-length': '0',
      });
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const bare = await call(listed.url, 'OPTIONS', '/api/v1/jobs', { headers: { origin: APP, 'access-control-request-method': 'GET' } });
    expect(bare.status).toBe(204);
    expect(bare.headers.get('access-control-allow-headers')).toBeNull();
    expect(bare.headers.get('vary')).toBe('Origin, Access-Control-Request-Headers');
    for (const headers of [{ origin: APP }, { 'access-control-request-method': 'POST' }] as Record<string, string>[]) {
      const invalid = await call(listed.url, 'OPTIONS', '/api/v1/jobs', { headers });
      expect(invalid.status).toBe(400);
      expect(invalid.body).toBe('Invalid Preflight Request');
      expect(invalid.headers.get('content-type')).toMatch(/^text\/plain/);
    }
  });
});

describe('HTTP rate limit', () => {
  let server: TestServer;
  const MAX = 5;
  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('http_rate'), HTTP_RATE_LIMIT_MAX: String(MAX) });
  });
  afterAll(async () => server?.close());

  const preflight = () =>
    call(server.url, 'OPTIONS', '/api/v1/jobs/some-job/progress', {
      headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
  /** Health and readiness (no token): answered, never counted, no rate-limit headers. */
  async function expectUnlimited(): Promise<void> {
    for (const path of ['/health', '/health/ready']) {
      const res = await call(server.url, 'GET', path);
      expect(res.status, path).toBe(200);
      expect(pick(res.headers, RATE_HEADERS), path).toEqual({});
    }
  }
  /** The headers of a counted answer that still had budget: `remaining` left after it. */
  function expectCounted(headers: Headers, remaining: number): void {
    const picked = pick(headers, RATE_HEADERS);
    expect(picked).toEqual({ 'x-ratelimit-limit': String(MAX), 'x-ratelimit-remaining': String(remaining), 'x-ratelimit-reset': expect.any(String) });
    expect(Number(picked['x-ratelimit-reset'])).toBeGreaterThan(55);
    expect(Number(picked['x-ratelimit-reset'])).toBeLessThanOrEqual(60);
  }

  it('counts every request per address before authentication (bad tokens and unknown routes too), then answers 429 before the route runs', async () => {
    // Preflights and health: not counted.
    const before = await preflight();
    expect(before.status).toBe(204);
    expect(pick(before.headers, RATE_HEADERS)).toEqual({});
    await expectUnlimited();
    // A flood of bad tokens: each refused by authentication, each counted, with the budget left. Against the same key
    // whatever address the client claims (no proxy is trusted: the key is the socket's address).
    // /metrics too: it takes a token, so bad tokens there count like anywhere else.
    for (let i = 1; i <= 3; i++) {
      const spoofed = { 'x-forwarded-for': `203.0.113.${i}`, forwarded: `for=203.0.113.${i}`, 'x-real-ip': `203.0.113.${i}` };
      const path = i === 3 ? '/metrics' : '/api/v1/jobs/nope';
      const res = await call(server.url, 'GET', path, { token: 'not-a-token', headers: spoofed });
      expect(res.status).toBe(401);
      expectCounted(res.headers, MAX - i);
    }
    // The 404 of an unknown route (a scanner's) is counted.
    const unknown = await call(server.url, 'GET', '/api/v1/no-such-route');
    expect(unknown.status).toBe(404);
    expectCounted(unknown.headers, MAX - 4);
    const last = await call(server.url, 'GET', '/api/v1/jobs/nope', { token: mintToken('rita') });
    expect(last.status).toBe(404);
    expectCounted(last.headers, 0);
    // Past MAX: 429 instead of the 401 authentication would give, for a valid token too, and for an unknown route.
    for (const [path, token] of [
      ['/api/v1/jobs/nope', 'not-a-token'],
      ['/api/v1/jobs/nope', mintToken('rita')],
      ['/api/v1/no-such-route', undefined],
      ['/metrics', adminToken()],
    ] as const) {
      const refused = await call(server.url, 'GET', path, token ? { token } : {});
      expect(refused.status, path).toBe(429);
      expect(refused.body).toEqual({
        type: 'error',
        error_code: 'RATE_LIMIT_EXCEEDED',
        message: expect.stringMatching(/^rate limit exceeded, retry in (1 minute|\d+ seconds)$/),
        timestamp: expect.any(String),
      });
      const headers = pick(refused.headers, RATE_HEADERS);
      expect(headers).toEqual({
        'x-ratelimit-limit': String(MAX),
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': expect.any(String),
        'retry-after': headers['x-ratelimit-reset'],
      });
    }
    // Preflights and health still answer, still uncounted.
    const after = await preflight();
    expect(after.status).toBe(204);
    expect(pick(after.headers, RATE_HEADERS)).toEqual({});
    expect(after.headers.get('access-control-allow-origin')).toBe(APP);
    await expectUnlimited();
  });
});

/**
 * The key of a client: its address, an IPv4-mapped IPv6 address as its IPv4 address and any other IPv6 address by
 * its /64 (as @fastify/rate-limit 11 keyed them; the Redis counter is named by the key). A dual-stack server sees the
 * same host as `::ffff:127.0.0.1` and `::1`.
 */
describe('HTTP rate limit keys', () => {
  let server: TestServer;
  const prefix = `ratekeys${Date.now()}`;
  const redis = new Redis(inject('redisUrl'));
  beforeAll(async () => {
    server = await startServer({
      DATABASE_URL: await createTestDatabase('http_rate_keys'),
      HOST: '::',
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: prefix,
      HTTP_RATE_LIMIT_MAX: '3',
    });
  });
  afterAll(async () => {
    await server?.close();
    redis.disconnect();
  });

  it('IPv4 through a dual-stack socket is keyed by its IPv4 address, ::1 by its /64 (::), each with its own budget', async () => {
    const { port } = new URL(server.url);
    const v4 = `http://127.0.0.1:${port}`;
    const v6 = `http://[::1]:${port}`;
    for (let i = 0; i < 3; i++) expect((await call(v4, 'GET', '/api/v1/no-such-route')).status).toBe(404);
    expect((await call(v4, 'GET', '/api/v1/no-such-route')).status).toBe(429);
    const other = await call(v6, 'GET', '/api/v1/no-such-route');
    expect(other.status).toBe(404);
    expect(other.headers.get('x-ratelimit-remaining')).toBe('2');
    await expect.poll(async () => redis.get(`${prefix}:rl:127.0.0.1`), { timeout: 5000, interval: 10 }).toBe('4');
    await expect.poll(async () => redis.get(`${prefix}:rl:::`), { timeout: 5000, interval: 10 }).toBe('1');
  });
});
