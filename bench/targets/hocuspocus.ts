/**
 * The bare peer: @hocuspocus/server's own `Server` class, no extensions, defaults (perMessageDeflate off).
 * With BENCH_DB_URL: @hocuspocus/extension-database storing the whole state in Postgres (`hp_documents`), for the
 * cold-load scenario (fetch = its `fetch` callback; apply = the rest of onLoadDocument).
 */
import { Database } from '@hocuspocus/extension-database';
import { Server } from '@hocuspocus/server';
import pg from 'pg';
import { instrumentPhases } from './phases.js';
import { PhaseClock, serve } from './runtime.js';

const dbUrl = process.env.BENCH_DB_URL;
const clock = new PhaseClock();
let pool: pg.Pool | undefined;
const extensions = [];
if (dbUrl) {
  pool = new pg.Pool({ connectionString: dbUrl, max: 10 });
  await pool.query('CREATE TABLE IF NOT EXISTS hp_documents (name text PRIMARY KEY, data bytea NOT NULL)');
  const db = pool;
  extensions.push(
    new Database({
      fetch: async ({ documentName }) => {
        const started = performance.now();
        const { rows } = await db.query<{ data: Buffer }>('SELECT data FROM hp_documents WHERE name = $1', [documentName]);
        clock.add('fetch', performance.now() - started);
        return rows[0] ? new Uint8Array(rows[0].data) : null;
      },
      store: async ({ documentName, state }) => {
        await db.query('INSERT INTO hp_documents (name, data) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data', [
          documentName,
          Buffer.from(state),
        ]);
      },
    }),
  );
}

const server = new Server({
  name: 'bench-hocuspocus',
  port: 0,
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: false,
  extensions,
  websocketOptions: { perMessageDeflate: false },
});
if (dbUrl) instrumentPhases(server.hocuspocus, clock);
await server.listen();
serve({
  port: server.address.port,
  close: async () => {
    await server.destroy();
    await pool?.end();
  },
  phases: () => {
    const d = clock.take();
    return { fetch: d.fetch ?? 0, apply: (d.load ?? 0) - (d.fetch ?? 0), encode: d.encode ?? 0 };
  },
});
