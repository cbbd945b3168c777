/**
 * The first sync of a document whose whole state is its stored snapshot, answered with the snapshot's bytes.
 *
 * A client that opens a document with nothing (a SyncStep1 with an empty state vector) is answered by Hocuspocus
 * with `Y.encodeStateAsUpdate(document)`: an encode of the whole document (~0.4 s for 10 MB, a sixth of the cold
 * load). When the document was loaded from a snapshot alone (no log rows, nothing skipped, nothing pending) and no
 * transaction has changed it since, the snapshot's bytes are that same state, already encoded: they are sent
 * instead, with the server's own SyncStep1 before them, as Hocuspocus orders the two.
 *
 * The frame is then neutralised so that Hocuspocus does not answer it a second time: its message type is rewritten
 * to QueryAwareness, which Hocuspocus 4.7 ignores on a client connection (it replies only on its Redis path). This
 * relies on `beforeHandleMessage` receiving the frame Hocuspocus is about to read (4.7 does: the frame's decoder
 * reads the same bytes). If that ever stops holding, the client is answered twice with the same state, which it
 * applies as a no-op: slower, never wrong. A frame that is anything else is left alone.
 *
 * Only the opening frame of a connection (the SyncStep1 a provider sends on attaching) is ever answered so. The
 * `beforeSync` hooks do not see a neutralised frame, and the write path's ack gate resets a connection's held acks
 * on a SyncStep1 (a provider counts its unsynced changes afresh there); before its first frame a connection has
 * sent nothing that could have an ack held. A later SyncStep1 (a resync) always goes to Hocuspocus.
 *
 * The snapshot is kept (a reference to the fetched bytes) until the first transaction that changes the document, or
 * until the document is gone (a WeakMap).
 */
import { MessageType, OutgoingMessage, type Connection } from '@hocuspocus/server';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { messageYjsSyncStep1, messageYjsSyncStep2 } from 'y-protocols/sync';
import type * as Y from 'yjs';

export class SnapshotSync {
  private readonly snapshots = new WeakMap<Y.Doc, Uint8Array>();
  /** Connections that have handled a frame: only a connection's opening frame is ever answered here. */
  private readonly opened = new WeakSet<Connection>();

  /**
   * Called right after a load that applied `snapshot` whole and nothing else: until a transaction changes the
   * document, `snapshot` is its state.
   */
  remember(doc: Y.Doc, snapshot: Uint8Array): void {
    if (hasPending(doc)) return;
    this.snapshots.set(doc, snapshot);
    const forgetOnChange = (transaction: Y.Transaction) => {
      if (!changesState(transaction)) return; // e.g. a client's empty SyncStep2
      this.snapshots.delete(doc);
      doc.off('afterTransaction', forgetOnChange);
    };
    doc.on('afterTransaction', forgetOnChange);
  }

  /** The snapshot that is still `doc`'s whole state, if there is one. */
  snapshotOf(doc: Y.Doc): Uint8Array | undefined {
    return hasPending(doc) ? undefined : this.snapshots.get(doc);
  }

  /**
   * For `beforeHandleMessage`: answers a connection's opening SyncStep1, when its state vector is empty, from the
   * snapshot and neutralises the frame. Returns whether it did.
   */
  answer(connection: Connection, frame: Uint8Array): boolean {
    if (this.opened.has(connection)) return false;
    this.opened.add(connection);
    const snapshot = this.snapshotOf(connection.document);
    if (snapshot === undefined) return false;
    const typeOffset = emptySyncStep1TypeOffset(frame);
    if (typeOffset === null) return false;
    connection.send(new OutgoingMessage(connection.messageAddress).createSyncMessage().writeFirstSyncStepFor(connection.document).toUint8Array());
    connection.send(syncStep2Message(connection.messageAddress, snapshot));
    frame[typeOffset] = MessageType.QueryAwareness;
    return true;
  }
}

/** Structs or deletes waiting for what they depend on (the snapshot would not carry them). */
function hasPending(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
}

/** Whether a transaction added structs or deleted any: every change to a document's state does one or the other. */
function changesState(transaction: Y.Transaction): boolean {
  if (transaction.deleteSet.clients.size > 0) return true;
  if (transaction.afterState.size !== transaction.beforeState.size) return true;
  for (const [client, clock] of transaction.afterState) if (transaction.beforeState.get(client) !== clock) return true;
  return false;
}

/**
 * Where the message type of `frame` is when the frame is exactly a Sync message carrying a SyncStep1 with an empty
 * state vector (the client has nothing); otherwise null.
 */
function emptySyncStep1TypeOffset(frame: Uint8Array): number | null {
  try {
    const decoder = decoding.createDecoder(frame);
    decoding.readVarString(decoder);
    const typeOffset = decoder.pos;
    if (decoding.readVarUint(decoder) !== MessageType.Sync) return null;
    if (decoding.readVarUint(decoder) !== messageYjsSyncStep1) return null;
    const stateVector = decoding.readVarUint8Array(decoder);
    const empty = stateVector.byteLength === 1 && stateVector[0] === 0;
    return empty && !decoding.hasContent(decoder) ? typeOffset : null;
  } catch {
    return null; // Hocuspocus reports what it cannot read
  }
}

/** A Sync message with a SyncStep2 carrying `update`, copied once into the message. */
function syncStep2Message(address: string, update: Uint8Array): Uint8Array {
  const head = encoding.createEncoder();
  encoding.writeVarString(head, address);
  encoding.writeVarUint(head, MessageType.Sync);
  encoding.writeVarUint(head, messageYjsSyncStep2);
  encoding.writeVarUint(head, update.byteLength);
  const headBytes = encoding.toUint8Array(head);
  const message = new Uint8Array(headBytes.byteLength + update.byteLength);
  message.set(headBytes, 0);
  message.set(update, headBytes.byteLength);
  return message;
}
