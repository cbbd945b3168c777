/**
 * The write guard's cost per update on a 5 KB and a 5 MB presentation (issue: "it must not grow with the document").
 * Runs the real WriteGuard hooks around a real Yjs apply, as Hocuspocus does (beforeSync → apply in one transaction
 * with the connection as origin → afterHandleMessage), for three cases:
 *   unguarded  — no lock held by another user: the guard returns at once
 *   allowed    — another user holds a lock; the update edits a different slide (armed, nothing rolled back)
 *   rolled back — the update edits the locked slide (armed, narrowed, undone)
 * Usage: npm run bench:guard   (prints a markdown table; µs per update, median of 5 rounds)
 */
import type { Connection } from '@hocuspocus/server';
import * as Y from 'yjs';
import { insertSlide, slideText, findSlide } from '../shared/presentation.js';
import { LockService } from '../server/collab/locks/lock-service.js';
import { MemoryLockStore } from '../server/collab/locks/memory-lock-store.js';
import { WriteGuard } from '../server/collab/write-guard.js';
import { MemoryBus } from '../server/bus/memory.js';
import { messageYjsUpdate } from 'y-protocols/sync';

const silent = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, fatal() {}, child() { return silent; }, level: 'silent' } as never;

function buildDoc(slides: number, bodyBytes: number): Y.Doc {
  const doc = new Y.Doc();
  doc.transact(() => {
    for (let i = 0; i < slides; i++) insertSlide(doc, { id: `s${i}`, title: `Slide ${i}`, body: 'x'.repeat(bodyBytes) });
  });
  return doc;
}

async function measure(label: string, slides: number, bodyBytes: number) {
  const server = buildDoc(slides, bodyBytes);
  const size = Y.encodeStateAsUpdate(server).byteLength;
  const client = new Y.Doc();
  Y.applyUpdate(client, Y.encodeStateAsUpdate(server));
  const bus = new MemoryBus();
  const locks = new LockService({ store: new MemoryLockStore(), bus, hocuspocus: () => ({ documents: new Map() }) as never, ttlMs: 60_000, logger: silent });
  await locks.track('bench');
  const guard = new WriteGuard({ locks, logger: silent });
  const connection = {
    readOnly: false,
    context: { presentationId: 'bench', role: 'editor', principal: { userId: 'writer', name: 'W', scopes: new Set(), expiresAt: Infinity } },
    sendStateless() {},
  } as unknown as Connection;

  const results: Record<string, number> = {};
  for (const mode of ['unguarded', 'allowed', 'rolled back'] as const) {
    if (mode === 'allowed') {
      await locks.acquire('bench', 's1', { userId: 'holder', name: 'H', color: '#000', connectionId: 'h' });
    }
    const target = mode === 'rolled back' ? 's1' : `s${slides - 1}`;
    const rounds: number[] = [];
    for (let round = 0; round < 5; round++) {
      const updates: Uint8Array[] = [];
      const onUpdate = (u: Uint8Array) => updates.push(u);
      client.on('update', onUpdate);
      for (let i = 0; i < 200; i++) slideText(findSlide(client, target)!, 'title').insert(0, 'k');
      client.off('update', onUpdate);
      const origin = { source: 'connection', connection };
      const started = process.hrtime.bigint();
      for (const update of updates) {
        await guard.beforeSync({ type: messageYjsUpdate, payload: update, connection, document: server } as never);
        Y.applyUpdate(server, update, origin);
        await guard.afterHandleMessage({ connection, document: server } as never);
      }
      rounds.push(Number(process.hrtime.bigint() - started) / 1000 / updates.length);
      // Keep the client in step with the server (rollbacks included).
      Y.applyUpdate(client, Y.encodeStateAsUpdate(server, Y.encodeStateVector(client)));
    }
    // The measurement is only meaningful if the guard did its job.
    const lockedTitle = slideText(findSlide(server, 's1')!, 'title').toString();
    if (mode === 'rolled back' && lockedTitle !== 'Slide 1') throw new Error(`locked slide changed: ${lockedTitle.slice(0, 40)}`);
    if (guard.stats.rolledBack === 0 && mode === 'rolled back') throw new Error('nothing was rolled back');
    rounds.sort((a, b) => a - b);
    results[mode] = rounds[2]!;
  }
  await locks.close();
  await bus.close();
  return { label, size, results };
}

const rows = [await measure('5 KB', 5, 900), await measure('5 MB', 500, 10_000)];
console.log('| document | encoded size | unguarded µs/update | allowed (armed) µs/update | rolled back µs/update |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.label} | ${(r.size / 1024).toFixed(0)} KiB | ${r.results.unguarded!.toFixed(1)} | ${r.results.allowed!.toFixed(1)} | ${r.results['rolled back']!.toFixed(1)} |`,
  );
}
const [small, big] = rows;
console.log(
  `\nratio 5 MB / 5 KB: allowed ${(big!.results.allowed! / small!.results.allowed!).toFixed(2)}×, rolled back ${(big!.results['rolled back']! / small!.results['rolled back']!).toFixed(2)}×`,
);
