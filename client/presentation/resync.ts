/**
 * Resyncs a session's document after the server's write guard refused one of its edits (design §5). The server
 * keeps the refused parts off every replica and row, but the sender's own Y.Doc still holds them: a refused delete
 * cannot be undone in Yjs, so the document has diverged until it is replaced by the server's.
 *
 * Which messages: an `error` stateless message whose `details.refused` is `part` (the update was applied without
 * what it may not touch; the server still acknowledges it) or `whole` (nothing applied, no acknowledgement, and the
 * server closes the socket so the client resyncs). Answers to lock requests and other errors carry no `refused`.
 *
 * Same provider, same server connection, new Y.Doc. Not a new provider: closing the document connection releases
 * the user's slide locks (held per connection), the server caps the awareness ids one connection introduces, and
 * Hocuspocus routes an Auth for a name whose Close it has not processed yet to the closing connection. The provider
 * members used are public in @hocuspocus/provider 4.8 (`setConfiguration`, `boundDocumentUpdateHandler`, `synced`,
 * `forceSync`).
 * 1. `part`: wait until every update the provider sent is acknowledged (synced, no unsynced changes). The refused
 *    update is acknowledged after its notice; the honest edits sent before or after it are then stored. Waiting is
 *    what keeps them: an acknowledged edit survives the server dying, an unacknowledged one only because the old
 *    document re-sends it, and the local document cannot tell an honest unacknowledged delete from a refused one.
 *    `whole`: switch at once (the socket is being closed, and on reconnect the provider would re-send the refused
 *    update); what the server had not acknowledged is dropped, edits made while switching too (they may build on the
 *    refused structs). The server refuses a whole update only when it was forged or its sender may not write.
 * 2. Switch: the provider's update handler moves from the old document to a fresh one, the provider's document
 *    becomes the fresh one, and a SyncStep1 with its empty state vector asks the server for everything. Edits made
 *    on the old document until the fresh one is synced are recorded (nothing sends them now).
 * 3. On the server's SyncStep2 the recorded edits are applied to the fresh document (the provider sends them: the
 *    server has every struct they build on, refused inserts as GC structs of the same ids), the fresh document takes
 *    the old one's client id (the provider's awareness is keyed by it, and the server stamped and claimed it for this
 *    user; nothing is stored under it past what the fresh document now has), and the session adopts it. From then
 *    on the old document is detached: its edits are dropped, and reported once.
 *
 * At most one resync is in flight: refusals while waiting are covered by the wait; a refusal while switching
 * (of an edit of the fresh document) starts one more resync after this one.
 */
import type { HocuspocusProvider } from '@hocuspocus/provider';
import * as Y from 'yjs';
import { DeckhandError } from '../errors.js';

export type Refusal = 'part' | 'whole';

/** `part` or `whole` when the error says an update of ours was refused (design §5), else null. */
export function refusalOf(error: DeckhandError): Refusal | null {
  const refused = (error.details as { refused?: unknown } | undefined)?.refused;
  return refused === 'part' || refused === 'whole' ? refused : null;
}

export interface ResyncHost {
  /** The fresh document is synced and carries the recorded edits: bind everything to it. */
  adopt(doc: Y.Doc): void;
  /** The provider's sync state changed (the session recomputes its state). */
  changed(): void;
  /** An edit made on a replaced document was dropped. */
  dropped(error: DeckhandError): void;
}

/** The update origin of recorded edits applied to the fresh document (not the provider's, so it sends them). */
const CARRIED = Symbol('deckhand-resync-carried');

export class DocumentResync {
  private phase: 'idle' | 'waiting' | 'switching' = 'idle';
  private again = false;
  private recorded: Uint8Array[] = [];
  private replaced: Y.Doc | null = null;
  /** Whether the edits recorded while switching are carried over (after a `part` refusal, not a `whole` one). */
  private carry = false;
  private stopRecording: (() => void) | null = null;
  private readonly retired: (() => void)[] = [];
  readonly stats = { resyncs: 0 };

  constructor(
    private readonly provider: HocuspocusProvider,
    private readonly host: ResyncHost,
  ) {}

  /** True while a resync waits for acknowledgements or for the server's document. */
  get pending(): boolean {
    return this.phase !== 'idle';
  }

  /** An update of ours was refused. */
  refused(kind: Refusal): void {
    if (this.phase === 'switching') {
      this.again = true;
    } else if (kind === 'whole') {
      this.switch(false);
    } else if (this.phase === 'idle') {
      this.phase = 'waiting';
      this.check();
    }
  }

  /** The provider's acknowledgements or connection changed: a waiting resync switches once all is acknowledged. */
  check(): void {
    if (this.phase === 'waiting' && this.provider.isSynced && this.provider.unsyncedChanges === 0) this.switch(true);
  }

  /** The provider applied the server's SyncStep2: a switching resync completes. */
  synced(): void {
    if (this.phase !== 'switching' || !this.replaced) return;
    const old = this.replaced;
    const fresh = this.provider.document;
    this.stopRecording?.();
    this.stopRecording = null;
    this.replaced = null;
    if (this.carry && this.recorded.length > 0) Y.applyUpdate(fresh, Y.mergeUpdates(this.recorded), CARRIED);
    this.recorded = [];
    fresh.clientID = old.clientID;
    this.retire(old);
    this.phase = 'idle';
    this.stats.resyncs++;
    this.host.adopt(fresh);
    if (this.again) {
      this.again = false;
      this.refused('part');
    }
  }

  dispose(): void {
    this.stopRecording?.();
    for (const stop of this.retired.splice(0)) stop();
    this.phase = 'idle';
  }

  /**
   * `carry`: only after all was acknowledged does the server have every struct the old document has (refused
   * inserts as GC structs of the same ids), so that edits recorded on it integrate on the fresh one. After a whole
   * refusal they may depend on the refused structs (Yjs would keep them pending, and re-send them with every sync).
   */
  private switch(carry: boolean): void {
    const provider = this.provider;
    const old = provider.document;
    const fresh = new Y.Doc({ gc: old.gc });
    this.phase = 'switching';
    this.carry = carry;
    this.replaced = old;
    this.recorded = [];
    old.off('update', provider.boundDocumentUpdateHandler);
    const record = (update: Uint8Array) => this.recorded.push(update);
    old.on('update', record);
    this.stopRecording = () => old.off('update', record);
    fresh.on('update', provider.boundDocumentUpdateHandler);
    provider.setConfiguration({ document: fresh, websocketProvider: provider.configuration.websocketProvider });
    provider.synced = false;
    this.host.changed();
    // SyncStep1 with an empty state vector: the server answers with its whole document (and its own SyncStep1,
    // whose answer the server acknowledges). Sent now if connected; otherwise the reconnect's sync does the same.
    if (provider.configuration.websocketProvider.status === 'connected') provider.forceSync();
  }

  /** Edits to a replaced document go nowhere: say so once, so a binding left on it is noticed. */
  private retire(old: Y.Doc): void {
    const report = () => {
      old.off('update', report);
      this.host.dropped(new DeckhandError('CONFLICT', 'an edit to a replaced document was dropped: bind to session.doc (see onDocument)'));
    };
    old.on('update', report);
    this.retired.push(() => old.off('update', report));
  }
}
