import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyStored, mergeStored } from '../../server/collab/doc-state.js';
import { UpdateLog } from '../../server/collab/update-log.js';
import type { Db } from '../../server/store/db.js';
import { DocumentStore, snapshotChecksum, snapshotIntact } from '../../server/store/documents.js';
import { listMigrations, migrate } from '../../server/store/migrate.js';
import { createPgDb } from '../../server/store/pg.js';
import { createPgliteDb } from '../../server/store/pglite.js';
import { createTestDatabase } from '../helpers/database.js';

function editsOf(n: number, prefix: string): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  for (let i = 0; i < n; i++) doc.getArray<string>('items').push([`${prefix}${i}`]);
  return updates;
}

function loaded(stored: { snapshot: Uint8Array | null; updates: Uint8Array[] }): string[] {
  const doc = new Y.Doc();
  applyStored(doc, stored, null);
  return doc.getArray<string>('items').toArray().sort();
}

for (const kind of ['postgres', 'pglite'] as const) {
  describe(`document store on ${kind}`, () => {
    let db: Db;
    let store: DocumentStore;
    beforeAll(async () => {
      db = kind === 'postgres' ? createPgDb({ connectionString: await createTestDatabase('store'), max: 8 }) : await createPgliteDb('memory://');
      // Two instances starting together apply each migration once.
      const [a, b] = await Promise.all([migrate(db), migrate(db)]);
      expect([...a, ...b].sort()).toEqual(listMigrations().map((m) => m.version));
      store = new DocumentStore(db);
    });
    afterAll(async () => db?.close());

    it('compaction racing appends and another compaction loses nothing', async () => {
      const fromA = editsOf(200, 'a');
      const fromB = editsOf(200, 'b');
      const logA = new UpdateLog(store);
      const logB = new UpdateLog(store);
      const appends: Promise<void>[] = [];
      const compactions: Promise<number>[] = [];
      for (let i = 0; i < 200; i++) {
        appends.push(logA.append('doc', fromA[i]!), logB.append('doc', fromB[i]!));
        if (i % 40 === 0) compactions.push(store.compact('doc', (s) => mergeStored(s)));
        if (i % 10 === 0) await new Promise((r) => setImmediate(r));
      }
      await Promise.all(appends);
      await Promise.all(compactions);
      await store.compact('doc', (s) => mergeStored(s));
      const stored = await store.load('doc');
      expect(stored.updates).toHaveLength(0);
      expect(stored.snapshot).not.toBeNull();
      const items = loaded(stored);
      expect(items).toHaveLength(400);
      expect(items).toContain('a199');
      expect(items).toContain('b0');
    });

    it('a load returns the stored bytes exactly (every byte value, NULL checksum, rows in append order), whatever the name', async () => {
      // On Postgres the load is a binary COPY whose name is inlined as a quoted literal (COPY takes no parameters).
      expect(typeof db.selectBinary).toBe(kind === 'postgres' ? 'function' : 'undefined');
      const name = `presentation:it's \\ a "name"'); DROP TABLE documents; --`;
      const snapshot = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256);
      await db.query('INSERT INTO documents (name, snapshot) VALUES ($1, $2)', [name, Buffer.from(snapshot)]);
      const rows = [Uint8Array.of(0, 255, 0), Uint8Array.of(), Uint8Array.of(92, 120, 48)];
      for (const update of rows) await store.append([{ name, update }]);
      const stored = await store.load(name);
      expect(Buffer.from(stored.snapshot!).equals(Buffer.from(snapshot))).toBe(true);
      expect(stored.snapshotSha256).toBeNull();
      expect(stored.updates.map((u) => [...u])).toEqual(rows.map((u) => [...u]));
      expect(await store.load(`${name}x`)).toEqual({ snapshot: null, snapshotSha256: null, updates: [] });
      expect(await store.logRowCount(name)).toBe(3); // and the tables are still there
    });

    it('a poisoned row cannot make a document unloadable', async () => {
      const good = editsOf(3, 'g');
      await store.append([
        { name: 'poison', update: good[0]! },
        { name: 'poison', update: Uint8Array.from([9, 9, 9, 9]) },
        { name: 'poison', update: good[1]! },
      ]);
      const stored = await store.load('poison');
      const bad: number[] = [];
      const doc = new Y.Doc();
      expect(applyStored(doc, stored, null, (i) => bad.push(i))).toBe(1);
      expect(bad).toEqual([1]);
      expect(doc.getArray('items').length).toBe(2);
    });

    it("a batch's updates of one document share one row, which load and compaction read back in append order", async () => {
      const a = editsOf(3, 'pa');
      const b = editsOf(2, 'pb');
      // A row from before packing (one update, packed = false) comes first.
      await db.query('INSERT INTO document_updates (name, update) VALUES ($1, $2)', ['packed-a', Buffer.from(editsOf(1, 'old')[0]!)]);
      await store.append([
        { name: 'packed-a', update: a[0]! },
        { name: 'packed-b', update: b[0]! },
        { name: 'packed-a', update: a[1]! },
        { name: 'packed-b', update: b[1]! },
        { name: 'packed-a', update: a[2]! },
      ]);
      expect(await store.logRowCount('packed-a')).toBe(2);
      expect(await store.logRowCount('packed-b')).toBe(1);
      const stored = await store.load('packed-a');
      expect(stored.updates.slice(1).map((u) => [...u])).toEqual(a.map((u) => [...u]));
      expect(loaded(stored)).toEqual(['old0', 'pa0', 'pa1', 'pa2']);
      expect(loaded(await store.load('packed-b'))).toEqual(['pb0', 'pb1']);
      const seen: Uint8Array[][] = [];
      expect(await store.compact('packed-a', (s) => (seen.push(s.updates), mergeStored(s)))).toBe(2);
      expect(seen[0]).toHaveLength(4);
      expect(await store.logRowCount('packed-a')).toBe(0);
      expect(loaded(await store.load('packed-a'))).toEqual(['old0', 'pa0', 'pa1', 'pa2']);
    });

    it('a packed row stops at 1 MB of updates; one that cannot be read is skipped as one bad row', async () => {
      const big = [new Uint8Array(600_000).fill(1), new Uint8Array(600_000).fill(2), new Uint8Array(10).fill(3)];
      await store.append(big.map((update) => ({ name: 'packed-big', update })));
      expect(await store.logRowCount('packed-big')).toBe(2);
      expect((await store.load('packed-big')).updates.map((u) => [u.byteLength, u[0]])).toEqual([
        [600_000, 1],
        [600_000, 2],
        [10, 3],
      ]);

      const good = editsOf(2, 'k');
      await store.append([{ name: 'packed-bad', update: good[0]! }]);
      // Says it holds five updates and holds two bytes.
      await db.query('INSERT INTO document_updates (name, update, packed) VALUES ($1, $2, true)', ['packed-bad', Buffer.from([5, 1, 7])]);
      await store.append([{ name: 'packed-bad', update: good[1]! }]);
      const stored = await store.load('packed-bad');
      expect(stored.updates).toHaveLength(3);
      const bad: number[] = [];
      const doc = new Y.Doc();
      expect(applyStored(doc, stored, null, (i) => bad.push(i))).toBe(1);
      expect(bad).toEqual([1]);
      expect(doc.getArray('items').toArray()).toEqual(['k0', 'k1']);
    });

    it('a compacted snapshot carries its SHA-256; one corrupted in the database is skipped whole, not half-applied', async () => {
      const first = editsOf(50, 's');
      await store.append(first.map((update) => ({ name: 'checked', update })));
      await store.compact('checked', (s) => mergeStored(s));
      const later = editsOf(1, 'late');
      await store.append([{ name: 'checked', update: later[0]! }]);

      const intact = await store.load('checked');
      expect(Buffer.from(intact.snapshotSha256!)).toEqual(snapshotChecksum(intact.snapshot!));
      expect(snapshotIntact(intact)).toBe(true);
      expect(loaded(intact)).toHaveLength(51);

      // The last bytes (the delete set) cut off: Y.applyUpdate alone would integrate the structs, then throw.
      const cut = intact.snapshot!.subarray(0, intact.snapshot!.byteLength - 3);
      expect(() => Y.applyUpdate(new Y.Doc(), cut)).toThrow();
      await db.query('UPDATE documents SET snapshot = $2 WHERE name = $1', ['checked', Buffer.from(cut)]);
      const corrupt = await store.load('checked');
      expect(snapshotIntact(corrupt)).toBe(false);
      const doc = new Y.Doc();
      const bad: number[] = [];
      expect(applyStored(doc, corrupt, null, (i) => bad.push(i))).toBe(1);
      expect(bad).toEqual([0]);
      expect(doc.getArray('items').toArray()).toEqual(['late0']);

      // A snapshot from before checksums (NULL) is decoded first too, and loads whole when it is sound.
      await db.query('UPDATE documents SET snapshot = $2, snapshot_sha256 = NULL WHERE name = $1', ['checked', Buffer.from(intact.snapshot!)]);
      const legacy = await store.load('checked');
      expect(legacy.snapshotSha256).toBeNull();
      expect(loaded(legacy)).toHaveLength(51);
    });
  });
}
