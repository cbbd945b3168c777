/**
 * The demo's dev-only routes: what they do, and that they exist only where they may: when the server signs with
 * its own generated dev secret (no JWT key configured), never with a configured JWT_SECRET or JWT_PUBLIC_KEY,
 * whatever NODE_ENV says.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeckhandClient, type JobEvent, type NotificationMessage } from '../../client/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';

/** No JWT key configured: the server generates its own dev secret (kept in a DATA_DIR of its own). */
const generatedSecret = () => ({ JWT_SECRET: '', DATA_DIR: mkdtempSync(join(tmpdir(), 'deckhand-dev-')) });

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
    dev = await startServer({ DATABASE_URL: await createTestDatabase('devroutes'), ...generatedSecret() });
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

  it('no dev route when JWT_SECRET is configured, whatever NODE_ENV says (a plain `npm start` leaves it unset)', async () => {
    for (const nodeEnv of ['', 'development', 'test']) {
      const configured = await startServer({ DATABASE_URL: await createTestDatabase('devsecret'), NODE_ENV: nodeEnv });
      try {
        const minted = await post(configured, '/api/v1/dev/token', { name: 'Mallory', presentation_id: 'someone-elses' });
        expect(minted.status, `NODE_ENV=${JSON.stringify(nodeEnv)}`).toBe(404);
        expect((await post(configured, '/api/v1/dev/generation', {}, mintToken('mallory'))).status).toBe(404);
        // The page itself is still served outside production (it asks for tokens the host app provides).
        expect((await fetch(`${configured.url}/`)).headers.get('content-type')).toContain('text/html');
      } finally {
        await configured.close();
      }
    }
  });

  it('serves the page, and no dev route with a public key; neither in production', async () => {
    const { publicKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
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
