/**
 * Closing a presentation's document on every instance (it was deleted): `close(id)` announces it on the bus channel
 * `collab.presentations.closed`; each instance tells every connection to the document why (a stateless `error`
 * with NOT_FOUND), closes them (Hocuspocus closeConnections for the document name), then calls its listeners
 * (`onClosed`), so other transports to the same document (the JSON collaboration sockets) close theirs too, and the
 * deletion cleans up what the closing copy stored. Every instance follows the channel from start, document loaded
 * or not.
 */
import type { Hocuspocus } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import { errorMessage } from '../../shared/errors.js';
import { documentName } from '../../shared/presentation.js';
import type { Bus, Unsubscribe } from '../bus/types.js';

export const PRESENTATION_CLOSED_CHANNEL = 'collab.presentations.closed';

export type PresentationClosedListener = (presentationId: string) => void;

export class PresentationClosing {
  private readonly listeners = new Set<PresentationClosedListener>();
  private subscription: Promise<Unsubscribe> | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly hocuspocus: () => Hocuspocus,
    private readonly logger: FastifyBaseLogger,
  ) {}

  /** Follows the closings announced by any instance (again after a failed attempt); resolves once live. */
  async start(): Promise<void> {
    this.subscription ??= this.bus.subscribe(PRESENTATION_CLOSED_CHANNEL, {
      event: (event) => {
        const id = (event.json() as { presentation_id?: unknown } | undefined)?.presentation_id;
        if (typeof id === 'string') this.closeHere(id);
      },
    });
    try {
      await this.subscription;
    } catch (err) {
      this.subscription = undefined;
      throw err;
    }
  }

  /** Closes the presentation's connections on every instance (on this one at least, when the bus is down). */
  async close(presentationId: string): Promise<void> {
    try {
      await this.start();
      await this.bus.publish(PRESENTATION_CLOSED_CHANNEL, JSON.stringify({ presentation_id: presentationId }));
    } catch (err) {
      this.logger.warn({ err, presentationId }, 'could not announce a closed presentation; closed on this instance only');
      this.closeHere(presentationId);
    }
  }

  onClosed(listener: PresentationClosedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    (await subscription?.catch(() => undefined))?.();
  }

  private closeHere(presentationId: string): void {
    const name = documentName(presentationId);
    const hocuspocus = this.hocuspocus();
    const notice = JSON.stringify(errorMessage('NOT_FOUND', `presentation ${presentationId} was deleted`));
    for (const connection of hocuspocus.documents.get(name)?.getConnections() ?? []) connection.sendStateless(notice);
    hocuspocus.closeConnections(name);
    for (const listener of this.listeners) {
      try {
        listener(presentationId);
      } catch (err) {
        this.logger.error({ err, presentationId }, 'a presentation-closed listener failed');
      }
    }
  }
}
