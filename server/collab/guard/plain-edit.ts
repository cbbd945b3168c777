/**
 * The guard's shortcut for the most common update: a writer with nothing to be guarded from (no lock held by
 * another user, not a commenter) typing or inserting next to what the document already has, outside `comments` and
 * away from slide ids. Such an update is allowed whole, as the full rules (./rules.ts) would decide, without
 * building places or verdicts: each struct's parent is found by walking up from its neighbour, allocation-free.
 * Anything else (a delete, a struct placed by parent id, a new slide, comments, a GC neighbour) takes the full path.
 */
import * as Y from 'yjs';
import type { DecodedUpdate } from './decoded-update.js';
import type { NewStruct } from './integration.js';
import type { Writer } from './writer.js';

export function isPlainEdit(doc: Y.Doc, update: DecodedUpdate, order: readonly NewStruct[], writer: Writer, roots: Roots): boolean {
  if (writer.readOnly || writer.commentOnly || writer.locked.size > 0 || update.deletes.size > 0) return false;
  const { slides, comments } = roots;
  const store = doc.store;
  for (const { struct, known } of order) {
    if (!(struct instanceof Y.Item) || known > 0) return false;
    const right = struct.rightOrigin ? storedItem(store, struct.rightOrigin) : null;
    if (struct.rightOrigin && !right) return false;
    let neighbour = right;
    if (struct.origin) {
      neighbour = storedItem(store, struct.origin);
      if (!neighbour) {
        // Right after the struct before it in this update (typing on): the same place as that one, already checked.
        if (struct.origin.client === struct.id.client && struct.origin.clock === struct.id.clock - 1) continue;
        return false;
      }
    }
    if (!neighbour) return false;
    const parent = neighbour.parent as Y.AbstractType<unknown>;
    if (parent === slides || parent === comments) return false; // a new slide, a thread
    // A direct key of a slide map: the slide's `id` is guarded.
    if (parent._item?.parent === slides && neighbour.parentSub === 'id') return false;
    let root = parent;
    while (root._item) root = root._item.parent as Y.AbstractType<unknown>;
    if (root === comments) return false;
  }
  return true;
}

/** The document's `slides` and `comments` root types (typed: see decide.ts). */
export interface Roots {
  slides: Y.AbstractType<unknown>;
  comments: Y.AbstractType<unknown>;
}

/** The struct of the document holding `id` when it is an Item (not GC), else null. */
function storedItem(store: Y.Doc['store'], id: Y.ID): Y.Item | null {
  if (id.clock >= Y.getState(store, id.client)) return null;
  const struct = Y.getItem(store, id) as Y.Item | Y.GC;
  return struct instanceof Y.Item ? struct : null;
}
