import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyStored, mergeStored } from '../../server/collab/doc-state.js';
import { UpdateLog } from '../../server/collab/update-log.js';
import type { Db } from '../../server/store/db.js';
import { DocumentStore } from '../../server/store/documents.js';
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
  });
}
