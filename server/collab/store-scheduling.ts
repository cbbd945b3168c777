/**
 * Hocuspocus with no debounced store per client change.
 *
 * Hocuspocus schedules its debounced store (`onStoreDocument`, `debounce` after the last change, at most
 * `maxDebounce`) on every applied change: one clearTimeout, one setTimeout and a closure per update. Deckhand stores
 * nothing there — every client update is appended to the log before its ack (./write-path.ts) — and compacts by
 * the count of appends and when a document leaves memory (./persistence.ts). So a change made by a client
 * connection schedules nothing. Everything else is Hocuspocus' own path, unchanged: a direct connection's disconnect
 * (`unloadImmediately` or kept warm with a debounced store), server changes, `flushPendingStores` on shutdown. A
 * document whose last client leaves with no store pending is unloaded at once, and compacted on the way out
 * (persistence's beforeUnloadDocument).
 */
import { Hocuspocus, isTransactionOrigin, type onStoreDocumentPayload } from '@hocuspocus/server';

type StoredDocument = Parameters<Hocuspocus['storeDocumentHooks']>[0];

const NOTHING_SCHEDULED = Promise.resolve();

export class DeckhandHocuspocus extends Hocuspocus {
  override storeDocumentHooks(document: StoredDocument, payload: onStoreDocumentPayload, immediately?: boolean): Promise<unknown> {
    const origin = payload.lastTransactionOrigin;
    if (!immediately && isTransactionOrigin(origin) && origin.source === 'connection') return NOTHING_SCHEDULED;
    return super.storeDocumentHooks(document, payload, immediately);
  }
}
