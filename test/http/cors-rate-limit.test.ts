/**
 * What every HTTP answer carries besides its body: the CORS headers (CORS_ORIGINS: an allowlist, or `*` for any
 * origin; credentials allowed; preflights answered 204 before authentication) and the HTTP rate limit's headers and
 * 429 (HTTP_RATE_LIMIT_MAX per HTTP_RATE_LIMIT_WINDOW_MS and client address, counted after authentication; none on
 * the health and metrics routes). Checked header by header, as browsers and clients see them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { call, createJob } from '../realtime/support.js';

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

  it('counts each authenticated request per address, tells the budget left, then answers 429 with when to retry', async () => {
    const token = mintToken('rita');
    // Refused by authentication: not counted, no rate-limit headers.
    const unauthenticated = await call(server.url, 'GET', '/api/v1/jobs/nope', { token: 'not-a-token' });
    expect(unauthenticated.status).toBe(401);
    expect(pick(unauthenticated.headers, RATE_HEADERS)).toEqual({});
    // Health and metrics are not limited.
    const health = await call(server.url, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(pick(health.headers, RATE_HEADERS)).toEqual({});
    for (let i = 1; i <= MAX; i++) {
      const res = await call(server.url, 'GET', '/api/v1/jobs/nope', { token });
      expect(res.status).toBe(404);
      const headers = pick(res.headers, RATE_HEADERS);
      expect(headers).toEqual({
        'x-ratelimit-limit': String(MAX),
        'x-ratelimit-remaining': String(MAX - i),
        'x-ratelimit-reset': expect.any(String),
      });
      expect(Number(headers['x-ratelimit-reset'])).toBeGreaterThan(55);
      expect(Number(headers['x-ratelimit-reset'])).toBeLessThanOrEqual(60);
    }
    const refused = await call(server.url, 'GET', '/api/v1/jobs/nope', { token });
    expect(refused.status).toBe(429);
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
    // The 404 of an unknown route is not limited; health still answers.
    const unknown = await call(server.url, 'GET', '/api/v1/no-such-route', { token });
    expect(unknown.status).toBe(404);
    expect(pick(unknown.headers, RATE_HEADERS)).toEqual({});
    expect((await call(server.url, 'GET', '/health')).status).toBe(200);
  });
});
