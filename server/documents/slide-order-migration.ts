/**
 * Migration of documents from before slide order keys, as a Hocuspocus extension: when a document loads with slides
 * whose `order` is missing or invalid, the keys derived from the array (shared/slide-order.ts) are written into those
 * slides, in one server transaction, appended to the update log and awaited before the document is served. The
 * order everyone sees does not change (derived keys are what every replica computed already); it only stops
 * depending on array positions. Two instances loading the same old document at once derive and write the same
 * values, so whichever write wins, the order is the same.
 */
import type { Extension, onLoadDocumentPayload } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import { orderedSlides } from '../../shared/presentation.js';
import type { PostgresPersistence } from '../collab/persistence.js';
import { transactWithUpdate } from './origin.js';

export class SlideOrderMigration implements Extension {
  /** After the persistence extension (1000) has loaded the stored state. */
  priority = 500;
  extensionName = 'deckhand-slide-order-migration';
  readonly stats = { migrated: 0, slides: 0 };

  constructor(
    private readonly persistence: () => PostgresPersistence,
    private readonly logger: FastifyBaseLogger,
  ) {}

  async onLoadDocument({ document, documentName }: onLoadDocumentPayload): Promise<void> {
    const missing = orderedSlides(document).filter((s) => s.derived);
    if (missing.length === 0) return;
    // Not broadcast (the document is not served yet) and not appended by onChange (no handler yet): stored here.
    const update = transactWithUpdate(document, { source: 'local', skipStoreHooks: true }, () => {
      for (const s of missing) s.slide.set('order', s.order);
    });
    if (update) await this.persistence().appendServerUpdate(documentName, update);
    this.stats.migrated++;
    this.stats.slides += missing.length;
    this.logger.info({ documentName, slides: missing.length }, 'slide order keys written (document from before order keys)');
  }
}
