/**
 * The update log's group commit alone against a real, durable Postgres (fsync on), with the rest of Deckhand out of
 * the way: `WRITERS=100 RATE=10 taskset -c 0 npx tsx bench/tools/update-log-probe.ts`. W writers each append a
 * 40-byte update every 1/R s, one at a time (as Hocuspocus handles a connection's messages: the next waits for the
 * previous append). Prints appends/s, rows per INSERT and append latency. Used to check whether the durable-ack
 * latency of scenario 1e comes from the group commit itself (it does not: see README "Performance").
 */
import { startBenchPostgres } from '../lib/infra.js';
import { Latency } from '../lib/stats.js';
import { UpdateLog } from '../../server/collab/update-log.js';
import { DocumentStore } from '../../server/store/documents.js';
import { migrate } from '../../server/store/migrate.js';
import { createPgDb } from '../../server/store/pg.js';

const WRITERS = Number(process.env.WRITERS ?? 100);
const RATE = Number(process.env.RATE ?? 10);
const ROUND_MS = Number(process.env.ROUND_MS ?? 2000);
const ROUNDS = Number(process.env.ROUNDS ?? 6);

const pg = await startBenchPostgres();
const db = createPgDb({ connectionString: pg.url, max: 10 });
await migrate(db);
const store = new DocumentStore(db);
const r = { latency: new Latency(), appended: 0, batches: 0, ms: 0 };

async function round(): Promise<void> {
  const log = new UpdateLog(store);
  const started = performance.now();
  const end = started + ROUND_MS;
  const update = new Uint8Array(40).fill(7);
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      let next = started + (w / WRITERS) * (1000 / RATE);
      while (next < end) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((res) => setTimeout(res, wait));
        const t = performance.now();
        await log.append(`doc-${w % 10}`, update);
        r.latency.recordMs(performance.now() - t);
        next += 1000 / RATE;
      }
    }),
  );
  r.appended += log.stats.appended;
  r.batches += log.stats.batches;
  r.ms += performance.now() - started;
}

try {
  for (let i = 0; i < ROUNDS; i++) await round();
  const s = r.latency.summary();
  console.log(
    `${((r.appended / r.ms) * 1000).toFixed(0)} appends/s (offered ${WRITERS * RATE}), ${(r.appended / r.batches).toFixed(1)} rows/INSERT, append latency p50 ${s.p50} p99 ${s.p99} p99.9 ${s.p999} max ${s.max} ms`,
  );
} finally {
  await db.close();
  pg.stop();
}
