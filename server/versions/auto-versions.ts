/**
 * Automatic versions: a presentation edited on this instance gets a version VERSION_INTERVAL_MS after
 * the first edit since its last check, and again after each further interval of editing; an idle one gets none.
 * The version is taken only when the content differs from the latest version (see VersionService.createAutomatic),
 * and instances editing the same presentation add one between them, not one each.
 *
 * Activity is an edit that reached this instance from a client or the server itself: updates from other instances
 * (their own instance counts them) and loads from the database are not activity.
 */
import type { onChangePayload } from '@hocuspocus/server';
import { isTransactionOrigin } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import { presentationIdOf } from '../../shared/presentation.js';
import type { ChangeObserver } from '../collab/message-hooks.js';

export interface AutoVersionOptions {
  intervalMs: number;
  take(presentationId: string, minAgeMs: number): Promise<unknown>;
  logger: FastifyBaseLogger;
}

/** A change observer of the collaboration service (server/collab/message-hooks.ts). */
export class AutoVersions implements ChangeObserver {
  private readonly due = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly options: AutoVersionOptions) {}

  observeChange({ documentName, transactionOrigin }: onChangePayload): void {
    if (isTransactionOrigin(transactionOrigin)) {
      if (transactionOrigin.source === 'redis') return;
      if (transactionOrigin.source === 'local' && transactionOrigin.skipStoreHooks) return;
    }
    const presentationId = presentationIdOf(documentName);
    if (presentationId) this.activity(presentationId);
  }

  /** The presentation was edited: a version is due one interval from now, unless one already is. */
  activity(presentationId: string): void {
    if (this.stopped || this.due.has(presentationId)) return;
    const timer = setTimeout(() => void this.fire(presentationId), this.options.intervalMs);
    timer.unref();
    this.due.set(presentationId, timer);
  }

  /** Presentations with a version due. */
  get pending(): number {
    return this.due.size;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.due.values()) clearTimeout(timer);
    this.due.clear();
  }

  private async fire(presentationId: string): Promise<void> {
    this.due.delete(presentationId);
    try {
      // Half an interval: another instance's version of the same burst of editing counts as this one.
      await this.options.take(presentationId, this.options.intervalMs / 2);
    } catch (err) {
      this.options.logger.warn({ err, presentationId }, 'could not take an automatic version');
    }
  }
}
