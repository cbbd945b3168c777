/**
 * The write guard's cost per update on a 5 KB and a 5 MB presentation ("it must not grow with the document").
 * Runs what the write path does with every client update, on a real document: decode and validate the update,
 * the guard's decision (server/collab/guard/decide.ts) for the writer, and the apply of what it lets through
 * (the original update, or its rewrite). Three cases:
 *   unguarded — no lock held by another user (the decision still checks the update can be integrated)
 *   allowed   — another user holds a lock; the update edits a different slide
 *   refused   — the update edits the locked slide (rewritten: its structs become GC, the sender gets a retraction)
 * Usage: npm run bench:guard   (prints a markdown table; CPU µs per update, median of 9 rounds of 200 updates after 10
 * untimed rounds, per case)
 */
import * as Y from 'yjs';
import { findSlide, insertSlide, slideText } from '../shared/presentation.js';
import { DecodedUpdate } from '../server/collab/guard/decoded-update.js';
import { decideUpdate } from '../server/collab/guard/decide.js';
import { writerFor } from '../server/collab/guard/writer.js';
import { lockTargetOf } from '../server/collab/locks/slide-ref.js';
import type { StoredLock } from '../server/collab/locks/lock-store.js';

/** Rounds of 200 updates per case, after untimed warm-up rounds; the median is reported (CPU time: the machine is shared). */
const ROUNDS = 9;
const WARM_UP_ROUNDS = 10;

function buildDoc(slides: number, bodyBytes: number): Y.Doc {
  const doc = new Y.Doc();
  doc.transact(() => {
    for (let i = 0; i < slides; i++) insertSlide(doc, { id: `s${i}`, title: `Slide ${i}`, body: 'x'.repeat(bodyBytes) });
  });
  return doc;
}

function measure(label: string, slides: number, bodyBytes: number) {
  const server = buildDoc(slides, bodyBytes);
  const size = Y.encodeStateAsUpdate(server).byteLength;
  const client = new Y.Doc();
  Y.applyUpdate(client, Y.encodeStateAsUpdate(server));
  const origin = { source: 'connection' };
  const lock: StoredLock = {
    slideId: 's1',
    slideRef: lockTargetOf(server, 's1')!.ref,
    userId: 'holder',
    name: 'H',
    color: '#000',
    connectionId: 'h',
    acquiredAt: Date.now(),
    expiresAt: Date.now() + 60_000,
  };
  let refused = 0;

  const results: Record<string, number> = {};
  for (const mode of ['unguarded', 'allowed', 'refused'] as const) {
    const locks = mode === 'unguarded' ? [] : [lock];
    const target = mode === 'refused' ? 's1' : `s${slides - 1}`;
    const rounds: number[] = [];
    for (let round = -WARM_UP_ROUNDS; round < ROUNDS; round++) {
      const updates: Uint8Array[] = [];
      const onUpdate = (u: Uint8Array, o: unknown) => {
        if (o !== 'server') updates.push(u);
      };
      client.on('update', onUpdate);
      for (let i = 0; i < 200; i++) slideText(findSlide(client, target)!, 'title').insert(0, 'k');
      client.off('update', onUpdate);
      const retractions: Uint8Array[] = [];
      const started = process.cpuUsage();
      for (const update of updates) {
        const decoded = new DecodedUpdate(update);
        const decision = decideUpdate(server, decoded, writerFor('writer', 'editor', locks, server));
        if (decision.kind !== 'apply') throw new Error(`refused whole: ${decision.reason}`);
        Y.applyUpdate(server, decision.update, origin);
        if (decision.retract) retractions.push(decision.retract);
        if (decision.denials.length > 0) refused++;
      }
      const used = process.cpuUsage(started);
      if (round >= 0) rounds.push((used.user + used.system) / updates.length);
      // Keep the client in step with the server (what the sender is sent back included).
      for (const r of retractions) Y.applyUpdate(client, r, 'server');
      Y.applyUpdate(client, Y.encodeStateAsUpdate(server, Y.encodeStateVector(client)), 'server');
    }
    // The measurement is only meaningful if the guard did its job.
    const lockedTitle = slideText(findSlide(server, 's1')!, 'title').toString();
    if (lockedTitle !== 'Slide 1') throw new Error(`locked slide changed: ${lockedTitle.slice(0, 40)}`);
    if (mode === 'refused' && refused === 0) throw new Error('nothing was refused');
    rounds.sort((a, b) => a - b);
    results[mode] = rounds[Math.floor(ROUNDS / 2)]!;
  }
  return { label, size, results };
}

const rows = [measure('5 KB', 5, 900), measure('5 MB', 500, 10_000)];
console.log('| document | encoded size | unguarded µs/update | allowed (lock by another) µs/update | refused µs/update |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.label} | ${(r.size / 1024).toFixed(0)} KiB | ${r.results.unguarded!.toFixed(1)} | ${r.results.allowed!.toFixed(1)} | ${r.results.refused!.toFixed(1)} |`,
  );
}
const [small, big] = rows;
console.log(
  `\nratio 5 MB / 5 KB: allowed ${(big!.results.allowed! / small!.results.allowed!).toFixed(2)}×, refused ${(big!.results.refused! / small!.results.refused!).toFixed(2)}×`,
);
