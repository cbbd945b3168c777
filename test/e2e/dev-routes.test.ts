/** The demo's dev-only routes: what they do, and that they exist only where they may. */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeckhandClient, type JobEvent, type NotificationMessage } from '../../client/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';

const post = async (server: TestServer, path: string, body: unknown, token?: string) => {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
};

describe('dev routes', () => {
  let dev: TestServer;
  beforeAll(async () => {
    dev = await startServer({ DATABASE_URL: await createTestDatabase('devroutes') });
  });
  afterAll(async () => dev?.close());

  it('mints a token for a name and lets the user into the deck: the first owns it, the next ones edit', async () => {
    const first = await post(dev, '/api/v1/dev/token', { name: 'Ana María', presentation_id: 'dev-deck' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ user_id: 'ana-maría', name: 'Ana María', role: 'owner' });
    const second = await post(dev, '/api/v1/dev/token', { name: 'Ben', presentation_id: 'dev-deck' });
    expect(second.body.role).toBe('editor');
    const again = await post(dev, '/api/v1/dev/token', { name: 'Ana María', presentation_id: 'dev-deck' });
    expect(again.body.role).toBe('owner');
    const members = await fetch(`${dev.url}/api/v1/presentations/dev-deck/members`, { headers: { authorization: `Bearer ${first.body.token}` } });
    expect(((await members.json()) as { members: unknown[] }).members).toEqual([
      expect.objectContaining({ user_id: 'ana-maría', role: 'owner' }),
      expect.objectContaining({ user_id: 'ben', role: 'editor' }),
    ]);
    for (const bad of [{ name: '' }, { name: '--' }, { name: 'x'.repeat(65) }, { name: 'ok', presentation_id: '../x' }, { name: 'ok', extra: 1 }]) {
      expect((await post(dev, '/api/v1/dev/token', bad)).body.error_code).toBe('INVALID_MESSAGE');
    }
  });

  it('runs a simulated generation through the real jobs and notifications services', async () => {
    const { body } = await post(dev, '/api/v1/dev/token', { name: 'Cleo' });
    expect((await post(dev, '/api/v1/dev/generation', {})).status).toBe(401);
    const started = await post(dev, '/api/v1/dev/generation', { topic: 'Launch plan', slides: 2 }, body.token);
    expect(started.status).toBe(202);
    const client = createDeckhandClient({ url: dev.url, token: body.token });
    try {
      const notifications: NotificationMessage[] = [];
      client.notifications.subscribe((n) => notifications.push(n));
      const events: JobEvent[] = [];
      const final = await client.followJob(started.body.job_id, (e) => events.push(e)).done;
      expect(final).toMatchObject({ status: 'completed', progress: 1 });
      expect(events.map((e) => e.data.current_step)).toContain('Drafting slide 2 of 2');
      const job = await client.getJob(started.body.job_id);
      expect(job).toMatchObject({ user_id: 'cleo', kind: 'demo-generation', result: { slides: [{ title: 'Launch plan: Why it matters' }, {}] } });
      // The automatic notification of a job that ends (AUTO_NOTIFICATIONS `job`).
      await expect.poll(() => notifications.map((n) => n.title)).toEqual(['Slides about Launch plan completed']);
      expect(notifications[0]).toMatchObject({ notification_type: 'success', category: 'demo-generation', data: { job_id: started.body.job_id } });
    } finally {
      client.destroy();
    }
  });

  it('serves the page, and no dev route with a public key; neither in production', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const verifyOnly = await startServer({ DATABASE_URL: await createTestDatabase('devkey'), JWT_SECRET: '', JWT_PUBLIC_KEY: publicKey });
    const production = await startServer({ DATABASE_URL: await createTestDatabase('devprod'), NODE_ENV: 'production' });
    try {
      expect((await post(verifyOnly, '/api/v1/dev/token', { name: 'x' })).status).toBe(404);
      expect((await fetch(`${verifyOnly.url}/`)).headers.get('content-type')).toContain('text/html');
      expect((await post(production, '/api/v1/dev/token', { name: 'x' })).status).toBe(404);
      expect((await post(production, '/api/v1/dev/generation', {})).status).toBe(404);
      expect((await fetch(`${production.url}/`)).status).toBe(404);
      expect((await fetch(`${production.url}/demo/app.js`)).status).toBe(404);
    } finally {
      await verifyOnly.close();
      await production.close();
    }
  });
});
