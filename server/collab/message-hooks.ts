/**
 * The per-message hooks of the collaboration features, as ONE Hocuspocus extension.
 *
 * Hocuspocus runs a hook as a promise chain with one link (and one `.catch`) per extension that has it, for every
 * frame (beforeHandleMessage, beforeSync, afterHandleMessage) and every applied change (onChange). With each feature
 * its own extension, an update paid that chain once per feature. Here every hook has one link, which calls the
 * features synchronously (only the write path's own decision is awaited). The features keep their logic in their
 * modules; this module only calls them, in the order their extensions' priorities gave them:
 *
 * - beforeHandleMessage: the write path notes the frame (./write-path.ts), so does awareness stamping (the client
 *   ids of an awareness frame, ./awareness.ts), then a client opening a document still equal to its stored snapshot
 *   is answered from the snapshot's bytes (./persistence.ts);
 * - beforeSync: the write path validates, decides, appends (may throw: nothing after it runs), then the sender's
 *   activity renews its slide locks (./locks/lock-extension.ts);
 * - afterHandleMessage: the frame stops counting against its socket's in-flight bytes (./inflight.ts);
 * - onChange: every change observer in turn (persistence first: what the write path does not append), each one's
 *   error logged and the next still called (Hocuspocus neither awaits nor catches onChange).
 */
import type { afterHandleMessagePayload, beforeHandleMessagePayload, beforeSyncPayload, Extension, onChangePayload } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import type { AwarenessStamp } from './awareness.js';
import type { InflightBudget } from './inflight.js';
import type { LockExtension } from './locks/lock-extension.js';
import type { PostgresPersistence } from './persistence.js';
import type { WritePath } from './write-path.js';

/** A feature that follows every change applied to a loaded document (synchronously: it must not block the others). */
export interface ChangeObserver {
  observeChange(payload: onChangePayload): void;
}

export interface MessageHookParts {
  writePath: WritePath;
  awareness: AwarenessStamp;
  persistence: PostgresPersistence;
  locks: LockExtension;
  inflight: InflightBudget;
  /** Called after persistence, in this order. */
  changeObservers: readonly ChangeObserver[];
  logger: FastifyBaseLogger;
}

export class MessageHooks implements Extension {
  /** First: nothing else may see an update the write guard has not decided on. */
  priority = 1000;
  extensionName = 'deckhand-message-hooks';
  private readonly observers: readonly ChangeObserver[];

  constructor(private readonly parts: MessageHookParts) {
    this.observers = [parts.persistence, ...parts.changeObservers];
  }

  async beforeHandleMessage({ connection, update }: beforeHandleMessagePayload): Promise<void> {
    this.parts.writePath.noteFrame(connection, update);
    this.parts.awareness.noteFrame(connection, update);
    this.parts.persistence.answerFromSnapshot(connection, update);
  }

  async beforeSync(payload: beforeSyncPayload): Promise<void> {
    await this.parts.writePath.beforeSync(payload);
    this.parts.locks.noteActivity(payload);
  }

  async afterHandleMessage({ update }: afterHandleMessagePayload): Promise<void> {
    this.parts.inflight.handled(update);
  }

  /** Never throws (see the header). */
  async onChange(payload: onChangePayload): Promise<void> {
    for (const observer of this.observers) {
      try {
        observer.observeChange(payload);
      } catch (err) {
        this.parts.logger.error({ err, hook: 'onChange', extension: observer.constructor?.name }, 'collaboration hook failed');
      }
    }
  }
}
