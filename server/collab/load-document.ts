/**
 * The cold load of a document: what the store holds, applied to the Hocuspocus document before anyone is connected
 * to it (onLoadDocument).
 *
 * The load is applied with the document's `update`/`updateV2` listeners detached. With a listener attached, Yjs
 * encodes every transaction's changes into an update for it (`writeUpdateMessageFromTransaction`): for the load, an
 * encode of the whole document (~0.5 s for 10 MB, a fifth of the parse) that nobody reads: Hocuspocus' listener
 * only broadcasts it to the document's connections, of which a loading document has none, and its `onChange` hooks
 * are not wired before the load has finished (they would skip a load's transaction anyway). Only the load's own
 * transaction runs without them; they are back before the load hook returns.
 */
import type * as Y from 'yjs';
import type { StoredDocument } from '../store/documents.js';
import { applyStored } from './doc-state.js';

const UPDATE_EVENTS = ['update', 'updateV2'] as const;

/** Applies `stored` to a document being loaded; returns how many rows were skipped as undecodable. */
export function applyStoredOnLoad(doc: Y.Doc, stored: StoredDocument, origin: unknown, onBadRow?: (index: number, err: unknown) => void): number {
  const restore = detachUpdateListeners(doc);
  try {
    return applyStored(doc, stored, origin, onBadRow);
  } finally {
    restore();
  }
}

/** Takes the document's update listeners off; the returned function puts them back, in their order. */
function detachUpdateListeners(doc: Y.Doc): () => void {
  const detached = UPDATE_EVENTS.map((name) => [name, [...(doc._observers.get(name) ?? [])]] as const);
  for (const [name, listeners] of detached) for (const listener of listeners) doc.off(name, listener);
  return () => {
    for (const [name, listeners] of detached) for (const listener of listeners) doc.on(name, listener);
  };
}
