import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError, UpdateLog } from '../../server/collab/update-log.js';
import { DocumentStore } from '../../server/store/documents.js';
import { migrate } from '../../server/store/migrate.js';
import { createPgDb } from '../../server/store/pg.js';
import type { Db } from '../../server/store/db.js';
import { createTestDatabase } from '../helpers/database.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';

describe('update log (group commit)', () => {
  let db: Db;
  beforeAll(async () => {
    db = createPgDb({ connectionString: await createTestDatabase('ulog'), max: 4 });
    await migrate(db);
  });
  afterAll(async () => db?.close());

  it('batches concurrent appends into few INSERTs and stores every one', async () => {
    const log = new UpdateLog(new DocumentStore(db));
    await Promise.all(Array.from({ length: 300 }, (_, i) => log.append(`doc-${i % 7}`, Uint8Array.from([1, 2, i % 256]))));
    expect(log.stats.appended).toBe(300);
    expect(log.stats.batches).toBeLessThan(30);
    const rows = await db.query<{ n: string }>('SELECT count(*) AS n FROM document_updates');
    expect(Number(rows.rows[0]!.n)).toBe(300);
  });

  it('while the store is down, retries; close() gives up at once and rejects with StoreUnavailableError', async () => {
    let pg: PostgresServer | undefined = await startPostgres();
    const down = createPgDb({ connectionString: pg.url, max: 2, connectionTimeoutMillis: 500 });
    try {
      await migrate(down);
      const givenUp: string[][] = [];
      const log = new UpdateLog(new DocumentStore(down), { onGiveUp: (_err, documents) => givenUp.push(documents) });
      pg.pause();
      const pending = log.append('d', Uint8Array.from([9]));
      pending.catch(() => {});
      await new Promise((r) => setTimeout(r, 700));
      expect(log.pending).toBe(1);
      expect(log.stats.retries).toBeGreaterThan(0);
      const started = Date.now();
      log.close();
      await expect(pending).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(givenUp).toEqual([['d']]);
      await expect(log.append('d', Uint8Array.from([1]))).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await down.close().catch(() => {});
      pg.stop();
      pg = undefined;
    }
  });
});
