/**
 * Makes an undurable document durable again. A change applied to a document whose append could not even be queued
 * (the update log's queue was full, or the server was closing) leaves this instance unable to vouch for that
 * document: its acks wait forever (./update-log.ts markUndurable) and its clients get 1013 after the ack timeout.
 * A busy document may never leave memory to start afresh, so once a second this queues the document's whole state
 * (`Y.encodeStateAsUpdate`: everything it holds, the lost change included) until the log takes it; when that
 * commits, the document's acks flow again. Compaction folds the duplicate state away.
 */
import type { afterLoadDocumentPayload, afterUnloadDocumentPayload, Document, Extension } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import * as Y from 'yjs';
import type { UpdateLog } from './update-log.js';

const RETRY_MS = 1000;

export class UndurableRepair implements Extension {
  extensionName = 'deckhand-undurable-repair';
  private readonly loaded = new Map<string, Document>();
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  readonly stats = { repaired: 0 };

  constructor(
    private readonly log: UpdateLog,
    private readonly logger: FastifyBaseLogger,
  ) {
    log.onUndurable((name) => {
      this.pending.add(name);
      this.timer ??= setInterval(() => this.sweep(), RETRY_MS).unref();
    });
  }

  async afterLoadDocument({ documentName, document }: afterLoadDocumentPayload): Promise<void> {
    this.loaded.set(documentName, document);
  }

  async afterUnloadDocument({ documentName, instance }: afterUnloadDocumentPayload): Promise<void> {
    if (instance.documents.has(documentName)) return;
    this.loaded.delete(documentName);
    this.pending.delete(documentName);
  }

  private sweep(): void {
    for (const name of this.pending) {
      const document = this.loaded.get(name);
      if (!document) {
        this.pending.delete(name); // not in memory: the next load starts from Postgres
        continue;
      }
      if (!this.log.repair(name, Y.encodeStateAsUpdate(document))) continue;
      this.pending.delete(name);
      this.stats.repaired++;
      this.logger.warn({ documentName: name }, 'a document whose change could not be queued is stored whole again');
    }
    if (this.pending.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
