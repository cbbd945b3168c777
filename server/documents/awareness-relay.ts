/**
 * JSON clients' awareness states to every instance. A JSON client's state is applied to the document's awareness on
 * its own instance (./json-awareness.ts); the Redis extension forwards awareness to other instances only from an
 * instance where the document has a Yjs connection, so a JSON client on an instance with none would stay invisible
 * to the Yjs editors elsewhere. This relay publishes each of those awareness updates on the bus channel
 * `collab.json-awareness.{presentationId}`; every other instance that has the document loaded applies it to its
 * awareness (as a Hocuspocus extension, it follows documents as they load and unload). Awareness updates carry their
 * own clocks, so one arriving twice (here and through the Redis extension) changes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { afterLoadDocumentPayload, afterUnloadDocumentPayload, Extension, Hocuspocus } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import { applyAwarenessUpdate } from 'y-protocols/awareness';
import { documentName, presentationIdOf } from '../../shared/presentation.js';
import type { Bus, Unsubscribe } from '../bus/types.js';

export const jsonAwarenessChannel = (presentationId: string): string => `collab.json-awareness.${presentationId}`;

/** The origin of relayed states (not a connection: the stamping hook does not touch them; they were stamped). */
export const RELAYED_AWARENESS_ORIGIN = { source: 'local', context: { documents: 'relayed-awareness' } } as const;

const MAX_UPDATE_BASE64 = 64 * 1024;

export class AwarenessRelay implements Extension {
  extensionName = 'deckhand-json-awareness-relay';
  private readonly instance = randomUUID();
  private readonly subscriptions = new Map<string, Promise<Unsubscribe>>();

  constructor(
    private readonly bus: Bus,
    private readonly hocuspocus: () => Hocuspocus,
    private readonly logger: FastifyBaseLogger,
  ) {}

  /** Sends an awareness update of this instance's JSON client to the other instances. */
  publish(presentationId: string, update: Uint8Array): void {
    const payload = JSON.stringify({ from: this.instance, update: Buffer.from(update).toString('base64') });
    void this.bus.publish(jsonAwarenessChannel(presentationId), payload).catch((err: unknown) => {
      this.logger.debug({ err, presentationId }, 'could not relay a JSON client’s awareness (other instances catch up at its next renewal)');
    });
  }

  async afterLoadDocument({ documentName: name }: afterLoadDocumentPayload): Promise<void> {
    const presentationId = presentationIdOf(name);
    if (!presentationId || this.subscriptions.has(presentationId)) return;
    const subscription = this.bus.subscribe(jsonAwarenessChannel(presentationId), {
      event: (event) => this.receive(presentationId, event.json()),
    });
    this.subscriptions.set(presentationId, subscription);
    await subscription.catch((err: unknown) => {
      this.subscriptions.delete(presentationId);
      this.logger.warn({ err, presentationId }, 'could not follow JSON clients’ awareness of other instances');
    });
  }

  async afterUnloadDocument({ documentName: name }: afterUnloadDocumentPayload): Promise<void> {
    const presentationId = presentationIdOf(name);
    const subscription = presentationId ? this.subscriptions.get(presentationId) : undefined;
    if (!presentationId || !subscription) return;
    this.subscriptions.delete(presentationId);
    (await subscription.catch(() => () => {}))();
  }

  private receive(presentationId: string, message: unknown): void {
    const { from, update } = (message ?? {}) as { from?: unknown; update?: unknown };
    if (from === this.instance || typeof update !== 'string' || update.length > MAX_UPDATE_BASE64) return;
    const document = this.hocuspocus().documents.get(documentName(presentationId));
    if (!document) return;
    try {
      applyAwarenessUpdate(document.awareness, Buffer.from(update, 'base64'), RELAYED_AWARENESS_ORIGIN);
    } catch (err) {
      this.logger.warn({ err, presentationId }, 'could not apply a relayed awareness update');
    }
  }
}
