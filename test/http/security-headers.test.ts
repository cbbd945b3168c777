/**
 * helmet's security headers on every kind of HTTP answer (server/http/security-headers.ts): a JSON route, an error,
 * a 404, an SSE stream, and a WebSocket route's plain GET.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { call, createJob, generationSse } from '../realtime/support.js';

const EXPECTED = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'strict-transport-security': expect.stringMatching(/^max-age=\d+/),
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-dns-prefetch-control': 'off',
};

describe('security headers', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('headers') });
  });
  afterAll(async () => server?.close());

  const headersOf = (h: Headers) => Object.fromEntries([...h.entries()]);

  it('on JSON answers, errors and 404s', async () => {
    const job = await createJob(server.url, { user_id: 'hana' });
    for (const [path, status] of [
      [`/api/v1/jobs/${job.job_id}`, 200],
      ['/api/v1/jobs/none', 404],
      ['/api/v1/no-such-route', 404],
      ['/api/v1/realtime/notifications', 400],
    ] as const) {
      const res = await call(server.url, 'GET', path, { token: mintToken('hana') });
      expect(res.status, path).toBe(status);
      expect(headersOf(res.headers), path).toMatchObject(EXPECTED);
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('on an event stream', async () => {
    const job = await createJob(server.url, { user_id: 'hana' });
    const headers = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
      const req = http.get(generationSse(server.url, job.job_id, mintToken('hana')), (res) => {
        resolve(res.headers);
        req.destroy();
      });
      req.on('error', reject);
    });
    expect(headers['content-type']).toMatch(/^text\/event-stream/);
    expect(headers).toMatchObject(EXPECTED);
  });
});
