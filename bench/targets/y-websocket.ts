/**
 * The other peer: @y/websocket-server's `setupWSConnection` on node:http + ws (perMessageDeflate off), as its own
 * server.js does. With BENCH_DB_URL: a Postgres persistence in the y-leveldb style (bindState loads every stored
 * update of the document and appends each later update), and the document is loaded before the WebSocket upgrade
 * completes (upstream does not await bindState, so a client could otherwise sync an empty document).
 */
import { createServer } from 'node:http';
import pg from 'pg';
import { WebSocketServer, type WebSocket } from 'ws';
import * as Y from 'yjs';
import { getYDoc, setPersistence, setupWSConnection } from '@y/websocket-server/utils';
import { PhaseClock, serve } from './runtime.js';

const dbUrl = process.env.BENCH_DB_URL;
const clock = new PhaseClock();
const loaded = new WeakMap<Y.Doc, Promise<void>>();
let pool: pg.Pool | undefined;

if (dbUrl) {
  pool = new pg.Pool({ connectionString: dbUrl, max: 10 });
  await pool.query('CREATE TABLE IF NOT EXISTS yws_updates (seq bigserial PRIMARY KEY, name text NOT NULL, data bytea NOT NULL)');
  await pool.query('CREATE INDEX IF NOT EXISTS yws_updates_name ON yws_updates (name, seq)');
  const db = pool;
  setPersistence({
    provider: db,
    bindState: (name: string, doc: Y.Doc) => {
      const load = (async () => {
        let started = performance.now();
        const { rows } = await db.query<{ data: Buffer }>('SELECT data FROM yws_updates WHERE name = $1 ORDER BY seq', [name]);
        clock.add('fetch', performance.now() - started);
        started = performance.now();
        Y.transact(doc, () => {
          for (const row of rows) Y.applyUpdate(doc, new Uint8Array(row.data), 'persistence');
        });
        clock.add('apply', performance.now() - started);
        doc.on('update', (update: Uint8Array, origin: unknown) => {
          if (origin === 'persistence') return;
          void db.query('INSERT INTO yws_updates (name, data) VALUES ($1, $2)', [name, Buffer.from(update)]).catch(() => {});
        });
      })();
      loaded.set(doc, load);
    },
    writeState: async () => {},
  });
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('okay');
});

wss.on('connection', (ws: WebSocket, req) => {
  // Time the handling of the first sync message (SyncStep1 → encodeStateAsUpdate → send), around upstream's listener.
  let first = true;
  ws.on('message', () => {
    if (first) clock.start('encode');
  });
  setupWSConnection(ws, req);
  ws.on('message', () => {
    if (first) {
      first = false;
      clock.end('encode');
    }
  });
});

server.on('upgrade', (request, socket, head) => {
  const name = (request.url ?? '').slice(1).split('?')[0] ?? '';
  const doc = getYDoc(name);
  const ready = loaded.get(doc) ?? Promise.resolve();
  ready.then(
    () => wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)),
    () => socket.destroy(),
  );
});

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
serve({
  port: typeof address === 'object' && address ? address.port : 0,
  close: async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pool?.end();
  },
  phases: () => clock.take(),
});
