/**
 * JSON socket upgrades are taken before Fastify's router (server/streaming/upgrade.ts): what Fastify did for them is
 * still done, as plain HTTP answers before the upgrade: the path parameter is validated (400, the JSON error) and the
 * HTTP rate limit applies (429). /collab still goes through @fastify/websocket; a plain GET still gets its error.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { call, createJob, generationWs, notificationsWs } from './support.js';

/** The HTTP answer to an upgrade that was refused before it happened. */
function refusedUpgrade(url: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => reject(new Error('upgraded')));
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
  });
}

describe('JSON socket upgrades', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('upgrade'), HTTP_RATE_LIMIT_MAX: '6' });
  });
  afterAll(async () => server?.close());

  it('a path parameter the route refuses gets 400 INVALID_MESSAGE before the upgrade; the HTTP rate limit gets 429', async () => {
    const bad = await refusedUpgrade(generationWs(server.url, '-not..an id', mintToken('uma')));
    expect(bad).toMatchObject({ status: 400, body: { type: 'error', error_code: 'INVALID_MESSAGE' } });
    // Upgrades count against the same HTTP limit as requests: a few more, and they are refused.
    const { job_id: id } = await createJob(server.url, { user_id: 'uma' });
    let refused: { status: number; body: any } | undefined;
    for (let i = 0; i < 10 && !refused; i++) {
      const outcome = await new Promise<{ status: number; body: any } | undefined>((resolve) => {
        const ws = new WebSocket(generationWs(server.url, id, mintToken('uma')));
        ws.on('open', () => {
          ws.close();
          resolve(undefined);
        });
        ws.on('error', () => {});
        ws.on('unexpected-response', (_req, res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        });
      });
      refused = outcome;
    }
    expect(refused).toMatchObject({ status: 429, body: { error_code: 'RATE_LIMIT_EXCEEDED' } });
  });

  it('a plain GET on a socket route is answered by the route (documented in the OpenAPI)', async () => {
    const fresh = await startServer({ DATABASE_URL: await createTestDatabase('upgrade2') });
    try {
      const res = await call(fresh.url, 'GET', '/api/v1/realtime/notifications');
      expect(res.status).toBe(400);
      expect(res.body.error_code).toBe('INVALID_MESSAGE');
      const socket = new WebSocket(notificationsWs(fresh.url, mintToken('uma')));
      const first = await new Promise<any>((resolve, reject) => {
        socket.once('message', (data) => resolve(JSON.parse(data.toString())));
        socket.once('error', reject);
      });
      expect(first).toMatchObject({ type: 'connected', user_id: 'uma' });
      socket.close();
    } finally {
      await fresh.close();
    }
  });
});
