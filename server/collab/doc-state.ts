/**
 * Turning stored rows into Yjs state, tolerant of a bad row: a row that fails to decode is skipped and reported,
 * so one poisoned update can never make a document unloadable.
 */
import * as Y from 'yjs';
import type { StoredDocument } from '../store/documents.js';

/** True for the empty update Yjs sends when a peer has nothing new ([0 structs, 0 deletes]). */
export function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength === 2 && update[0] === 0 && update[1] === 0;
}

/** Throws when `update` is not a decodable Yjs (v1) update. Cost grows with the update, not the document. */
export function assertValidUpdate(update: Uint8Array): void {
  Y.decodeUpdate(update);
}

/** Applies the snapshot and every log row to `doc`; returns how many rows were skipped as undecodable. */
export function applyStored(
  doc: Y.Doc,
  stored: StoredDocument,
  origin: unknown,
  onBadRow?: (index: number, err: unknown) => void,
): number {
  let skipped = 0;
  const parts = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates;
  Y.transact(
    doc,
    () => {
      parts.forEach((part, index) => {
        try {
          assertValidUpdate(part);
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
