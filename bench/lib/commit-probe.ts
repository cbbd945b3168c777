/**
 * The update log's group commit alone, against the target's own Postgres, inside a scenario run: W writers each
 * append a 40-byte row every 1/R s, one at a time (a writer's next append waits for its previous one, as a
 * connection's acks did before issue #13). Its p99 is the commit cost an ack cannot avoid, the reference 1e's
 * edit-to-ack target adds to bare Hocuspocus' in-memory ack p99.
 */
import { UpdateLog } from '../../server/collab/update-log.js';
import { DocumentStore } from '../../server/store/documents.js';
import { createPgDb } from '../../server/store/pg.js';
import { sleep } from './schedule.js';
import { Latency } from './stats.js';

export async function commitProbe(dbUrl: string, writers: number, ratePerWriter: number, ms: number): Promise<Latency> {
  const db = createPgDb({ connectionString: dbUrl, max: 4 });
  const log = new UpdateLog(new DocumentStore(db));
  const latency = new Latency();
  const update = new Uint8Array(40).fill(7);
  const started = performance.now();
  const end = started + ms;
  try {
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        let next = started + (w / writers) * (1000 / ratePerWriter);
        while (next < end) {
          const wait = next - performance.now();
          if (wait > 0) await sleep(wait);
          const t = performance.now();
          await log.append(`commit-probe-${w % 10}`, update);
          latency.recordMs(performance.now() - t);
          next += 1000 / ratePerWriter;
        }
      }),
    );
  } finally {
    log.close();
    await db.close();
  }
  return latency;
}
