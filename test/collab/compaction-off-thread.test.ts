/**
 * Compaction merges on a worker thread (server/collab/off-thread-merge.ts): while a document with tens of thousands
 * of structs is folded as its last client leaves, the server's event loop (this process: the server runs in it) is
 * never blocked for anything near the time the same merge takes on a thread. Measured relative to that merge, on
 * this machine, in this run, so a slow machine moves both. On Linux the merging thread runs at nice 19.
 */

/** The nice values of this process' threads (Linux: field 19 of /proc/self/task/{tid}/stat). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSlides, insertSlide, slideText } from '../../shared/presentation.js';
import { updatesOfRow } from '../../server/store/packed-updates.js';
import { mergeStored } from '../../server/collab/doc-state.js';
import { untilAsync } from '../helpers/append-hold.js';
import { openClient, waitAcked, waitSynced } from '../helpers/collab-client.js';
import { createTestDatabase, loadFromDatabase, queryDb } from '../helpers/database.js';
import { prng } from '../helpers/prng.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';

describe('compaction off the event loop', () => {
  let databaseUrl: string;
  let server: TestServer;
  beforeAll(async () => {
    databaseUrl = await createTestDatabase('offthread');
    server = await startServer({ DATABASE_URL: databaseUrl });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('folds a large log while the event loop keeps turning', async () => {
    const name = 'presentation:big';
    const writer = openClient({ url: server.wsUrl, presentationId: 'big', token: mintToken('alice') });
    await waitSynced(writer);
    insertSlide(writer.doc, { id: 'big', title: 'many small edits' });
    const body = slideText(getSlides(writer.doc).get(0), 'body');
    const random = prng(7);
    // Inserts at random places do not merge into one struct: each is a struct the merge integrates.
    for (let round = 0; round < 8; round++) {
      writer.doc.transact(() => {
        for (let i = 0; i < 5000; i++) body.insert(random.int(body.length + 1), 'x');
      });
      await waitAcked(writer, 30_000);
    }
    const rows = await queryDb<{ update: Buffer; packed: boolean }>(
      databaseUrl,
      'SELECT update, packed FROM document_updates WHERE name = $1 ORDER BY seq',
      [name],
    );
    const stored = { snapshot: null, updates: rows.flatMap((r) => updatesOfRow(r.update, r.packed)) };
    const startedAt = performance.now();
    mergeStored(stored);
    const onThreadMs = performance.now() - startedAt;
    expect(onThreadMs).toBeGreaterThan(100); // else this document proves nothing here

    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    writer.destroy();
    await untilAsync(
      async () => (await queryDb(databaseUrl, 'SELECT 1 FROM document_updates WHERE name = $1', [name])).length === 0,
      'compacted',
      30_000,
    );
    delay.disable();
    const longestStallMs = delay.max / 1e6;
    expect(server.app.deckhand.collab.persistence.stats.compactions).toBeGreaterThanOrEqual(1);
    expect(longestStallMs).toBeLessThan(onThreadMs / 2);
    if (process.platform === 'linux') expect(threadNiceValues()).toContain(19);
    const loaded = await loadFromDatabase(databaseUrl, name);
    expect(slideText(getSlides(loaded).get(0), 'body').length).toBe(40_000);
  });
});
