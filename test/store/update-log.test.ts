import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_COST_BYTES, StoreUnavailableError, UpdateLog } from '../../server/collab/update-log.js';
import { DocumentStore } from '../../server/store/documents.js';
import { migrate } from '../../server/store/migrate.js';
import { createPgDb } from '../../server/store/pg.js';
import type { Db } from '../../server/store/db.js';
import { createTestDatabase } from '../helpers/database.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { heldAppends, holdAppendsContaining, untilAsync } from '../helpers/append-hold.js';

describe('update log (group commit)', () => {
  let db: Db;
  beforeAll(async () => {
    db = createPgDb({ connectionString: await createTestDatabase('ulog'), max: 4 });
    await migrate(db);
  });
  afterAll(async () => db?.close());

  it('batches concurrent appends into few INSERTs and stores every one', async () => {
    const store = new DocumentStore(db);
    const log = new UpdateLog(store);
    await Promise.all(Array.from({ length: 300 }, (_, i) => log.append(`doc-${i % 7}`, Uint8Array.from([1, 2, i]))));
    expect(log.stats.appended).toBe(300);
    expect(log.stats.batches).toBeLessThan(30);
    // A batch's updates of one document share a row: at most one row per document and batch, every update in it.
    const rows = await db.query<{ n: string }>("SELECT count(*) AS n FROM document_updates WHERE name LIKE 'doc-%'");
    expect(Number(rows.rows[0]!.n)).toBeLessThanOrEqual(7 * log.stats.batches);
    for (let d = 0; d < 7; d++) {
      const { updates } = await store.load(`doc-${d}`);
      const expected = Array.from({ length: 300 }, (_, i) => i)
        .filter((i) => i % 7 === d)
        .map((i) => i % 256);
      expect(updates.map((u) => u[2])).toEqual(expected);
    }
  });

  it('numbers appends in order: a document is durable once the watermark passes its last append', async () => {
    const store = new DocumentStore(db);
    const log = new UpdateLog(store);
    const seen: number[] = [];
    log.onCommitted((committed) => seen.push(committed));
    const a1 = log.enqueue('wm-a', Uint8Array.from([1]));
    const b1 = log.enqueue('wm-b', Uint8Array.from([2]));
    const a2 = log.enqueue('wm-a', Uint8Array.from([3]));
    expect([a1, b1, a2]).toEqual([1, 2, 3]);
    expect(log.requiredFor('wm-a')).toBe(3);
    expect(log.requiredFor('wm-b')).toBe(2);
    expect(log.requiredFor('wm-c')).toBe(0);
    expect(log.committed).toBe(0);
    await log.drain();
    expect(log.committed).toBe(3);
    expect(seen.at(-1)).toBe(3);
    expect((await store.load('wm-a')).updates.map((u) => [...u])).toEqual([[1], [3]]);
    expect((await store.load('wm-b')).updates.map((u) => [...u])).toEqual([[2]]);
  });

  it('a second batch goes out while the first commits, but is reported written only once the first is', async () => {
    const databaseUrl = await createTestDatabase('ulog2');
    const own = createPgDb({ connectionString: databaseUrl, max: 4 });
    await migrate(own);
    const release = await holdAppendsContaining(databaseUrl, 'HELD');
    try {
      const log = new UpdateLog(new DocumentStore(own));
      const settled: string[] = [];
      log.enqueue('two-a', new TextEncoder().encode('HELD first'), () => settled.push('first'));
      await untilAsync(async () => (await heldAppends(databaseUrl)) === 1, 'the first INSERT held');
      const second = log.enqueue('two-b', new TextEncoder().encode('second'), () => settled.push('second'));
      // The second INSERT commits beside the held one (it did not wait for it)...
      await untilAsync(
        async () => (await own.query("SELECT 1 FROM document_updates WHERE name = 'two-b'")).rows.length === 1,
        'the second row stored',
      );
      // ...yet nothing after the held append counts as written while it is not.
      expect(log.committed).toBe(0);
      expect(settled).toEqual([]);
      await release();
      await log.drain();
      expect(log.committed).toBe(second);
      expect(settled).toEqual(['first', 'second']);
    } finally {
      await release();
      await own.close();
    }
  });

  it('a full queue refuses before queuing; an applied change that cannot be queued makes its document undurable until forgotten', async () => {
    // Room for 4 bytes of updates in two entries (each entry also costs ENTRY_COST_BYTES).
    const log = new UpdateLog(new DocumentStore(db), { maxQueuedBytes: 2 * ENTRY_COST_BYTES + 4 });
    log.enqueue('full-a', Uint8Array.from([1, 2, 3]));
    expect(() => log.enqueue('full-b', Uint8Array.from([1, 2]))).toThrow(StoreUnavailableError);
    expect(log.requiredFor('full-b')).toBe(0);
    await expect(log.append('full-b', Uint8Array.from([1, 2]))).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(log.requiredFor('full-b')).toBe(Number.POSITIVE_INFINITY);
    log.enqueue('full-b', Uint8Array.from([9]));
    expect(log.requiredFor('full-b')).toBe(Number.POSITIVE_INFINITY);
    log.forget('full-b');
    expect(log.requiredFor('full-b')).toBe(0);
    await log.drain();
  });

  it('an undurable document is durable again once its whole state, queued by repair, is committed', async () => {
    const log = new UpdateLog(new DocumentStore(db), { maxQueuedBytes: 2 * ENTRY_COST_BYTES + 4 });
    const announced: string[] = [];
    log.onUndurable((name) => announced.push(name));
    log.enqueue('rep-a', Uint8Array.from([1, 2, 3]));
    await expect(log.append('rep-b', Uint8Array.from([1, 2]))).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(announced).toEqual(['rep-b']);
    // No room yet: the repair waits.
    expect(log.repair('rep-b', Uint8Array.from([7, 7]))).toBe(false);
    expect(log.requiredFor('rep-b')).toBe(Number.POSITIVE_INFINITY);
    await log.drain();
    expect(log.repair('rep-b', Uint8Array.from([7, 7]))).toBe(true);
    const required = log.requiredFor('rep-b');
    expect(required).toBeLessThan(Number.POSITIVE_INFINITY);
    await log.drain();
    expect(log.committed).toBeGreaterThanOrEqual(required);
    const rows = await db.query<{ update: Buffer }>("SELECT update FROM document_updates WHERE name = 'rep-b'");
    expect(rows.rows.map((r) => [...r.update])).toEqual([[7, 7]]);
  });

  it('while the store is down, retries until it is back; close() gives up at once and rejects with StoreUnavailableError', async () => {
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
      // Never given up while running: once the store is back, the same append is written.
      pg.resume();
      await pending;
      expect(log.committed).toBe(1);
      pg.pause();
      const later = log.append('d', Uint8Array.from([8]));
      later.catch(() => {});
      await new Promise((r) => setTimeout(r, 700));
      const started = Date.now();
      log.close();
      await expect(later).rejects.toBeInstanceOf(StoreUnavailableError);
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
