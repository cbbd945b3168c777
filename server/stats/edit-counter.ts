/**
 * Counts the document edits applied on this instance (GET /realtime/stats `total_edit_operations`): updates from
 * this instance's clients and its own server-side edits (a JSON operation, a restore), not those relayed from other
 * instances through Redis (each instance counts its own) and not a document's load.
 */
import { isTransactionOrigin, type onChangePayload } from '@hocuspocus/server';
import type { ChangeObserver } from '../collab/message-hooks.js';

/** A change observer of the collaboration service (server/collab/message-hooks.ts). */
export class EditCounter implements ChangeObserver {
  private count = 0;

  get total(): number {
    return this.count;
  }

  observeChange({ transactionOrigin }: onChangePayload): void {
    if (
      isTransactionOrigin(transactionOrigin) &&
      (transactionOrigin.source === 'redis' || (transactionOrigin.source === 'local' && transactionOrigin.skipStoreHooks))
    )
      return;
    this.count++;
  }
}
