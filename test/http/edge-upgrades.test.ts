/**
 * Upgrade requests (`Connection: Upgrade`) that the edge hooks answer with plain HTTP instead of a WebSocket: a
 * preflight (204/400, server/http/cors.ts) and a 429 of the HTTP rate limit (server/http/rate-limit.ts). Node hands
 * such a socket over to the 'upgrade' listener and stops reading it; @fastify/websocket routes it through Fastify and
 * closes it after an answer only if its own onRequest hook saw the request first. An answer that left the socket
 * open leaked it for good (the server never reads the client's FIN): a client past its budget, or any client with
 * uncounted preflights, could pile up sockets without limit, and app.close() waited for them forever.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';

const UPGRADE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

/** Sends one upgrade request; resolves with the answer's status once the SERVER has ended the connection. */
function answerThenEnd(server: TestServer, method: string, path: string, headers = ''): Promise<number> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (out += d));
    socket.on('error', reject);
    socket.on('end', () => {
      socket.destroy();
      resolve(Number(/^HTTP\/1\.1 (\d{3}) /.exec(out)?.[1]));
    });
    socket.write(`${method} ${path} HTTP/1.1\r\nHost: ${hostname}\r\n${UPGRADE}${headers}\r\n`);
  });
}

describe('upgrade requests answered by the edge hooks', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('edge_upgrades'), HTTP_RATE_LIMIT_MAX: '2' });
  });
  afterAll(async () => server?.close());

  it('a preflight and a 429 close the connection, so the server can stop', async () => {
    const preflight = 'Origin: https://app.example\r\nAccess-Control-Request-Method: GET\r\n';
    expect(await answerThenEnd(server, 'OPTIONS', '/api/v1/collab', preflight)).toBe(204);
    expect(await answerThenEnd(server, 'OPTIONS', '/api/v1/collab')).toBe(400);
    // Spend the budget, then: the collaboration socket and a plain route, each refused 429.
    while ((await fetch(`${server.url}/api/v1/no-such-route`)).status !== 429);
    expect(await answerThenEnd(server, 'GET', '/api/v1/collab')).toBe(429);
    expect(await answerThenEnd(server, 'GET', '/api/v1/jobs/nope')).toBe(429);
    await server.close();
  }, 20_000);
});
