/**
 * The write path of a client update (design §2, §5), called from the beforeSync hook (./message-hooks.ts), which is awaited before
 * Hocuspocus applies a SyncStep2/Update and sends its acknowledgement (SyncStatus). Here, in order:
 *
 * 1. decode and validate the update (malformed: the socket is closed with 1007, nothing applied, no ack);
 * 2. ask the guard (./guard/decide.ts), after claiming the client ids the update writes under (./client-owners.ts)
 *    — an update that cannot be integrated, or that writes under a client id that is not the user's (another user's,
 *    or a new one past the user's cap of new ids in the document), is refused whole: not applied, not stored, not
 *    acknowledged; the sender gets an `error` and its socket is closed (4409) so that it resyncs. A refusal first
 *    catches the document up from Postgres once, in case this instance lags behind another;
 * 3. queue the append of what may be applied (the original update, or the guard's rewrite of it: nothing forbidden
 *    is ever stored, so there is no rollback to lose). The append is not awaited: the update log writes it with the
 *    next group commit, in order;
 * 4. apply at once, so peers see the edit now: the original is left to Hocuspocus; a rewrite is applied here, with
 *    the connection as transaction origin (so Hocuspocus broadcasts it and extension-redis relays it like any client
 *    update), and the original is withheld: its bytes in the frame are zeroed, which Yjs reads as an empty update.
 *    The sender is told what was not applied (and is sent the deletes of its refused structs, so its own document
 *    drops them too).
 *
 * Hocuspocus then sends the acknowledgement, which ./ack-gate.ts holds until the append has committed: peers may see
 * an edit before it is durable; the sender's ack never precedes durability. When the log cannot take the append
 * (queue full, shutting down), the update is not applied and the socket is closed with 1013. A connection with more
 * than `maxUnackedBytes` of updates waiting for their acks waits before its next one is handled (flow control).
 *
 * Zeroing relies on Hocuspocus handing `beforeSync` a view into the frame it is about to apply (4.7 does: the payload
 * is peeked from the frame's decoder). That is checked on every use against the frame seen in beforeHandleMessage;
 * if it ever does not hold, the update is not applied at all (the document connection is closed) rather than
 * applied unguarded.
 */
import { OutgoingMessage, type beforeSyncPayload, type Connection } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import { messageYjsSyncStep1, messageYjsSyncStep2, messageYjsUpdate } from 'y-protocols/sync';
import * as Y from 'yjs';
import { CLOSE_CODES, type ErrorMessage } from '../../shared/errors.js';
import type { AckGate } from './ack-gate.js';
import { writtenClients, type ClientIdCheck, type ClientOwners } from './client-owners.js';
import { isCollabContext } from './context.js';
import { isEmptyUpdate } from './doc-state.js';
import { DecodedUpdate, MalformedUpdateError } from './guard/decoded-update.js';
import { decideUpdate, type GuardDecision } from './guard/decide.js';
import { denialNotices, refusalNotice } from './guard/notices.js';
import { writerFor } from './guard/writer.js';
import type { LockService } from './locks/lock-service.js';
import type { PostgresPersistence } from './persistence.js';
import { StoreUnavailableError, type UpdateLog } from './update-log.js';

export class InvalidUpdateError extends Error {
  /** Hocuspocus closes the document connection with this code (1007: invalid payload data). */
  readonly code = 1007;
  readonly reason = 'INVALID_MESSAGE: malformed Yjs update';
}

/** The document connection was closed while its update waited: not applied; Hocuspocus drops what it still queues. */
class ConnectionGoneError extends Error {
  readonly code = 1000;
  readonly reason = 'document connection closed';
}

/** Thrown when an update cannot be withheld from Hocuspocus: the document connection is closed instead. */
class WithholdError extends Error {
  readonly code = 1011;
  readonly reason = 'INTERNAL_ERROR: update not applied';
}

export interface WritePathOptions {
  log: UpdateLog;
  persistence: PostgresPersistence;
  owners: ClientOwners;
  locks: LockService;
  gate: AckGate;
  /** A connection with more update bytes than this waiting for their acks waits before its next update. */
  maxUnackedBytes: number;
  logger: FastifyBaseLogger;
}

export class WritePath {
  /** The frame each connection is handling (beforeSync's payload must be a view into it to be withheld). */
  private readonly frames = new WeakMap<Connection, Uint8Array>();
  readonly stats = { accepted: 0, rewritten: 0, refused: 0, catchUps: 0, throttled: 0 };

  constructor(private readonly options: WritePathOptions) {}

  /** Every frame of a document connection, before Hocuspocus handles it (./message-hooks.ts: beforeHandleMessage). */
  noteFrame(connection: Connection, frame: Uint8Array): void {
    this.frames.set(connection, frame);
    this.options.gate.watch(connection);
  }

  /** Every sync message, before Hocuspocus applies it and sends its ack (./message-hooks.ts: beforeSync, first). */

  async beforeSync({ type, payload, connection, document, documentName }: beforeSyncPayload): Promise<void> {
    if (type === messageYjsSyncStep1) this.options.gate.resync(connection);
    if (type !== messageYjsSyncStep2 && type !== messageYjsUpdate) return;
    // Each of these messages gets an ack, which may be held: flow control counts every one (a viewer's and an empty
    // update's too), or a connection could pile up held acks without bound while the log is stalled.
    const { gate } = this.options;
    const backlog = gate.whenUnackedAtMost(connection, this.options.maxUnackedBytes);
    if (backlog) {
      this.stats.throttled++;
      await backlog;
    }
    if (!document.hasConnection(connection)) throw new ConnectionGoneError();
    // Hocuspocus refuses a read-only connection's update (SyncStatus false) and applies nothing; an empty update
    // changes nothing. Both are acknowledged.
    if (connection.readOnly || isEmptyUpdate(payload)) {
      gate.expectAck(connection, 0);
      return;
    }
    let update: DecodedUpdate;
    try {
      update = new DecodedUpdate(payload);
    } catch (err) {
      if (!(err instanceof MalformedUpdateError)) throw err;
      // Not applied, not stored, not acknowledged; the offender's socket is closed (1007).
      const error = new InvalidUpdateError(err.message);
      connection.webSocket.close(error.code, error.reason);
      throw error;
    }
    let decision = await this.decide(connection, documentName, document, update);
    if (decision.kind === 'refuse' && (await this.options.persistence.catchUp(documentName, document))) {
      this.stats.catchUps++;
      decision = await this.decide(connection, documentName, document, update);
    }
    // The waits above (flow control, the owners lookup, a catch-up) leave time for the document connection to be
    // closed (a revocation, the provider's Close) or made read-only: nothing it sent may be applied or stored then.
    if (!document.hasConnection(connection)) throw new ConnectionGoneError();
    if (connection.readOnly) {
      gate.expectAck(connection, 0);
      return;
    }
    if (decision.kind === 'apply' && !decision.rewritten) {
      this.append(connection, documentName, payload);
      gate.expectAck(connection, payload.byteLength);
      this.stats.accepted++;
      return;
    }
    this.assertWithholdable(connection, payload);
    if (decision.kind === 'refuse') {
      // Not applied, not stored, not acknowledged: the sender is told, and its socket closed so that it resyncs.
      this.stats.refused++;
      payload.fill(0);
      this.options.logger.info({ documentName, code: decision.code, reason: decision.reason }, 'update refused whole');
      this.tell(connection, [refusalNotice(decision.code, decision.reason)]);
      connection.webSocket.close(CLOSE_CODES.UPDATE_REFUSED.code, CLOSE_CODES.UPDATE_REFUSED.reason);
      return;
    }
    if (!isEmptyUpdate(decision.update)) this.append(connection, documentName, decision.update);
    gate.expectAck(connection, decision.update.byteLength);
    payload.fill(0);
    Y.applyUpdate(document, decision.update, { source: 'connection', connection });
    // What the sender may not keep, deleted in its own document (the broadcast carries GC structs, no deletes).
    if (decision.retract)
      connection.send(new OutgoingMessage(connection.messageAddress).createSyncMessage().writeUpdate(decision.retract).toUint8Array());
    this.stats.rewritten++;
    if (decision.denials.length > 0) this.tell(connection, denialNotices(decision.denials));
  }

  private async decide(connection: Connection, documentName: string, document: Y.Doc, update: DecodedUpdate): Promise<GuardDecision> {
    const context = connection.context as unknown;
    if (!isCollabContext(context)) throw new WithholdError('connection without a collaboration context');
    const { userId } = context.principal;
    let clients: ClientIdCheck;
    try {
      clients = await this.options.owners.check(documentName, writtenClients(document, update), userId);
    } catch (err) {
      if (err instanceof StoreUnavailableError) connection.webSocket.close(err.code, err.reason);
      throw err;
    }
    const writer = writerFor(userId, context.role, this.options.locks.cached(context.presentationId), document, clients);
    return decideUpdate(document, update, writer);
  }

  /** Queues the append (not awaited: ./ack-gate.ts holds the ack until it commits); throws when it cannot be queued. */
  private append(connection: Connection, documentName: string, update: Uint8Array): void {
    try {
      this.options.log.enqueue(documentName, update);
    } catch (err) {
      // Not applied. Close the whole socket with "try again later": the provider reconnects with backoff and
      // re-sends its unacknowledged edits (a per-document close would leave it idle on this document).
      if (err instanceof StoreUnavailableError) connection.webSocket.close(err.code, err.reason);
      throw err;
    }
    this.options.persistence.noteAppended(documentName);
  }

  private assertWithholdable(connection: Connection, payload: Uint8Array): void {
    const frame = this.frames.get(connection);
    const inside =
      frame !== undefined &&
      payload.buffer === frame.buffer &&
      payload.byteOffset >= frame.byteOffset &&
      payload.byteOffset + payload.byteLength <= frame.byteOffset + frame.byteLength;
    if (!inside) {
      this.options.logger.error('the update to withhold is not a view into its frame (Hocuspocus changed?): closing the document connection');
      throw new WithholdError('update not withholdable');
    }
  }

  private tell(connection: Connection, notices: ErrorMessage[]): void {
    for (const notice of notices) connection.sendStateless(JSON.stringify(notice));
  }
}
