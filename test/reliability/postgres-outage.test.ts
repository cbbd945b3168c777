import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { findSlide, insertSlide, slideText } from '../../shared/presentation.js';
import { jsonOf, openClient, waitAcked, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { loadFromDatabase } from '../helpers/database.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { mintToken, startServerProcess, type ServerProcess } from '../helpers/server.js';

/** Quick in `npm test`; `npm run test:soak` sets OUTAGE_MS=20000 for the full 20 s outage. */
const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 3000);

describe(`Postgres down for ${OUTAGE_MS / 1000} s during edits`, () => {
  const clients: CollabClient[] = [];
  let server: ServerProcess | undefined;
  let pg: PostgresServer | undefined;
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.kill9();
    pg?.stop();
  });

  it('clients keep editing, appends are retried, nothing acknowledged is lost, memory stays bounded', async () => {
    pg = await startPostgres();
    server = await startServerProcess({ DATABASE_URL: pg.url, LOG_LEVEL: 'warn' });
    const writers = [0, 1, 2].map(() => openClient({ url: server!.wsUrl, presentationId: 'outage', token: mintToken('alice') }));
    clients.push(...writers);
    await Promise.all(writers.map((w) => waitSynced(w)));
    writers[0]!.doc.transact(() => [0, 1, 2].forEach((i) => insertSlide(writers[0]!.doc, { id: `w${i}` })));
    await waitAcked(writers[0]!);
    await Promise.all(writers.map((w) => waitAcked(w)));

    const written: string[][] = [[], [], []];
    const edit = async (round: string, count: number) => {
      await Promise.all(
        writers.map(async (w, i) => {
          for (let n = 0; n < count; n++) {
            const slide = findSlide(w.doc, `w${i}`);
            if (!slide) {
              await new Promise((r) => setTimeout(r, 20));
              continue;
            }
            const token = `<${round}${i}.${n}>`;
            slideText(slide, 'body').insert(0, token);
            written[i]!.push(token);
            await new Promise((r) => setTimeout(r, 25));
          }
        }),
      );
    };
    await edit('before', 10);
    await Promise.all(writers.map((w) => waitAcked(w)));

    pg.pause();
    const rssBefore = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))?.[1]);
    await edit('during', Math.max(10, Math.floor(OUTAGE_MS / 100)));
    // Nothing written during the outage is acknowledged: it is not stored yet.
    expect(writers.some((w) => w.provider.hasUnsyncedChanges)).toBe(true);
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - 1000)));
    const rssDuring = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))?.[1]);
    pg.resume();

    await edit('after', 10);
    await Promise.all(writers.map((w) => waitAcked(w, 60_000)));
    expect(server.output()).toContain('update append failed, retrying');
    // Bounded: the server holds at most the edits in flight, not a growing backlog (RSS in KiB).
    expect(rssDuring - rssBefore).toBeLessThan(100 * 1024);

    const fromDb = await loadFromDatabase(pg.url, 'presentation:outage');
    for (let i = 0; i < 3; i++) {
      const body = slideText(findSlide(fromDb, `w${i}`)!, 'body').toString();
      for (const token of written[i]!) expect(body).toContain(token);
    }
    expect(jsonOf(fromDb)).toBe(jsonOf(writers[0]!.doc));
  });
});
