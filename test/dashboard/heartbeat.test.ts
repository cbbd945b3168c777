/**
 * The server pings JSON sockets (WS_PING_INTERVAL_MS) and drops the ones that stop answering: a plain `ws` client
 * (which answers pings, as browsers do) stays, one that does not answer is terminated and its slot freed.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { createJob, generationWs, notificationsWs } from '../realtime/support.js';

const PING_MS = 300;

function open(url: string, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, options);
  const state = { pings: 0, closed: undefined as number | undefined, messages: [] as any[] };
  ws.on('ping', () => state.pings++);
  ws.on('close', (code) => (state.closed = code));
  ws.on('message', (data) => state.messages.push(JSON.parse(String(data))));
  ws.on('error', () => {});
  return { ws, state };
}

async function until(predicate: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('server pings on JSON sockets', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({
      DATABASE_URL: await createTestDatabase('ping'),
      WS_PING_INTERVAL_MS: String(PING_MS),
      WEBSOCKET_MAX_CONNECTIONS_PER_USER: '1',
    });
  });
  afterAll(async () => server?.close());

  it('a socket that answers stays open across many pings; one that stops answering is dropped and its slot freed', async () => {
    const alive = open(notificationsWs(server.url, mintToken('live')));
    const dead = open(notificationsWs(server.url, mintToken('dead')), { autoPong: false });
    await until(
      () => alive.state.messages.some((m) => m.type === 'connected') && dead.state.messages.some((m) => m.type === 'connected'),
      5000,
      'connected',
    );

    await until(() => dead.state.closed !== undefined, 10 * PING_MS, 'the silent socket dropped');
    expect(dead.state.closed).toBe(1006); // terminated: no close handshake with a peer that does not answer
    expect(dead.state.pings).toBeGreaterThanOrEqual(1);
    await until(() => alive.state.pings >= 5, 20 * PING_MS, 'five pings answered');
    expect(alive.state.closed).toBeUndefined();

    // The dropped user's only connection slot is free again.
    const again = open(notificationsWs(server.url, mintToken('dead')));
    await until(() => again.state.messages.some((m) => m.type === 'connected'), 5000, 'reconnected');
    alive.ws.close();
    again.ws.close();
  });

  it('job sockets are pinged too', async () => {
    const { job_id: id } = await createJob(server.url, { user_id: 'quiet' });
    const dead = open(generationWs(server.url, id, mintToken('quiet')), { autoPong: false });
    await until(() => dead.state.messages.some((m) => m.type === 'job_progress'), 5000, 'the job state');
    await until(() => dead.state.closed !== undefined, 10 * PING_MS, 'dropped');
    expect(dead.state.closed).toBe(1006);
  });
});
