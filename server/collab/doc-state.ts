/**
 * Turning stored rows into Yjs state, tolerant of a bad row: a row that fails to decode is skipped and reported,
 * so one poisoned update can never make a document unloadable.
 *
 * Every part is decoded whole (`Y.decodeUpdate`) before it is applied, because `Y.applyUpdate` integrates the structs
 * it has read before it reaches a corrupt delete set: a bad part would be half-applied, not skipped. The one
 * exception is a snapshot whose stored SHA-256 matches (compaction wrote it from `Y.encodeStateAsUpdate`, and the
 * bytes are unchanged since): decoding a 10 MB snapshot costs ~0.5 s, a fifth of the cold load, its checksum ~25 ms.
 */
import * as Y from 'yjs';
import { snapshotIntact, type StoredDocument } from '../store/documents.js';

/** True for the empty update Yjs sends when a peer has nothing new ([0 structs, 0 deletes]). */
export function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength === 2 && update[0] === 0 && update[1] === 0;
}

/** Throws when `update` is not a decodable Yjs (v1) update. Cost grows with the update, not the document. */
export function assertValidUpdate(update: Uint8Array): void {
  Y.decodeUpdate(update);
}

/** Applies the snapshot and every log row to `doc`; returns how many rows were skipped as undecodable. */
export function applyStored(doc: Y.Doc, stored: StoredDocument, origin: unknown, onBadRow?: (index: number, err: unknown) => void): number {
  let skipped = 0;
  const parts = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates;
  const trusted = snapshotIntact(stored) ? stored.snapshot : null;
  Y.transact(
    doc,
    () => {
      parts.forEach((part, index) => {
        try {
          if (part !== trusted) assertValidUpdate(part);
          Y.applyUpdate(doc, part, origin);
        } catch (err) {
          skipped++;
          onBadRow?.(index, err);
        }
      });
    },
    origin,
  );
  return skipped;
}

/** Merges stored state into one compact snapshot (garbage-collected, as a fresh load would see it). */
export function mergeStored(stored: StoredDocument, onBadRow?: (index: number, err: unknown) => void): Uint8Array {
  const doc = new Y.Doc({ gc: true });
  try {
    applyStored(doc, stored, null, onBadRow);
    return Y.encodeStateAsUpdate(doc);
  } finally {
    doc.destroy();
  }
}
