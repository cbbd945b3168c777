/**
 * Counts the document edits applied on this instance (GET /realtime/stats `total_edit_operations`): updates from
 * this instance's clients and its own server-side edits (a JSON operation, a restore), not those relayed from other
 * instances through Redis (each instance counts its own) and not a document's load.
 */
import { isTransactionOrigin, type Extension, type onChangePayload } from '@hocuspocus/server';

export class EditCounter implements Extension {
  extensionName = 'deckhand-edit-counter';
  private count = 0;

  get total(): number {
    return this.count;
  }

  async onChange({ transactionOrigin }: onChangePayload): Promise<void> {
    if (
      isTransactionOrigin(transactionOrigin) &&
      (transactionOrigin.source === 'redis' || (transactionOrigin.source === 'local' && transactionOrigin.skipStoreHooks))
    )
      return;
    this.count++;
  }
}
