/**
 * Transactions the documents feature makes on a live document: their origin (who made them, for the
 * `edit_operation` messages of the JSON socket) and the one Yjs update each produces (what is appended).
 */
import type * as Y from 'yjs';
import { markSelfAppended } from '../collab/persistence.js';
import type { PlannedAction } from './plan.js';

/** Who an operation transaction is for: the user, and the client's operation id when it was one operation. */
export interface OperationAuthor {
  userId: string;
  operationId?: string;
}

export interface OperationOrigin {
  source: 'local';
  /**
   * `actions`: everything the transaction does (the mirror translates them without reading the texts back), once
   * `complete` (set as the last step of the transaction: a change that failed part way did only some of them).
   */
  context: { documents: OperationAuthor; actions: readonly PlannedAction[]; complete: boolean };
}

/** A fresh origin for one operation transaction: Hocuspocus' "local" kind, appended by its maker (persistence.ts). */
export function operationOrigin(author: OperationAuthor, actions: readonly PlannedAction[]): OperationOrigin {
  return markSelfAppended({ source: 'local', context: { documents: author, actions, complete: false } });
}

/** The actions of a transaction made by this feature that did all of them, else undefined. */
export function actionsOf(origin: unknown): readonly PlannedAction[] | undefined {
  const context = authorOf(origin) ? (origin as OperationOrigin).context : undefined;
  return context?.complete ? context.actions : undefined;
}

/** The author of a transaction made by this feature, else undefined. */
export function authorOf(origin: unknown): OperationAuthor | undefined {
  const context = (origin as { source?: unknown; context?: { documents?: OperationAuthor } } | null)?.context;
  return (origin as { source?: unknown } | null)?.source === 'local' ? context?.documents : undefined;
}

/** A change that threw part way: what it had changed was committed all the same (Yjs does not roll back). */
export class PartialChangeError extends Error {
  constructor(
    readonly update: Uint8Array | null,
    options: { cause: unknown },
  ) {
    super('a transaction failed part way', options);
    this.name = 'PartialChangeError';
  }
}

/**
 * Runs `change` as one transaction with `origin` and returns its update (null when it changed nothing). When
 * `change` throws, the part it did is committed anyway: a PartialChangeError carries that part's update, so the
 * caller can still store what every replica now has.
 */
export function transactWithUpdate(doc: Y.Doc, origin: object, change: () => void): Uint8Array | null {
  // Inside another transaction the change would join it and its update would not be ours to store.
  if (doc._transaction !== null) throw new Error('a documents transaction cannot run inside another transaction');
  let update: Uint8Array | null = null;
  const capture = (u: Uint8Array, o: unknown) => {
    if (o === origin) update = u;
  };
  doc.on('update', capture);
  try {
    doc.transact(change, origin);
  } catch (err) {
    throw new PartialChangeError(update, { cause: err });
  } finally {
    doc.off('update', capture);
  }
  return update;
}
