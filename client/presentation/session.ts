/**
 * One open presentation: its Y.Doc bound to the server by a HocuspocusProvider on the client's shared socket, and
 * typed helpers for what the document and the connection carry — slides, comments, presence, locks, errors, and the
 * connection state (status, first sync done, edits the server has not acknowledged yet).
 *
 * Unacknowledged edits are kept by the provider across disconnects and re-sent on reconnect; `state.unsyncedChanges`
 * reaches 0 once the server has stored them (it acknowledges only after its durable append).
 *
 * When the server's write guard refuses an edit, the local document has diverged from the server's: the session
 * replaces it with the server's (./resync.ts). `doc` then is another Y.Doc; `slides` and `comments` follow it, and
 * `onDocument` tells the application to bind its editors to the new one.
 */
import { HocuspocusProvider, type HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import type { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { documentName } from '../../shared/presentation.js';
import { Emitter } from '../emitter.js';
import { DeckhandError, isErrorCode } from '../errors.js';
import { readClaims, resolveToken, type TokenClaims, type TokenSource } from '../token.js';
import { Comments } from './comments.js';
import { Locks } from './locks.js';
import { Presence } from './presence.js';
import { Slides } from './slides.js';
import { DocumentResync, refusalOf } from './resync.js';
import { parseStateless } from './stateless.js';

export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected';

export interface SessionState {
  status: ConnectionStatus;
  /** The first sync with the server is done (false again while disconnected). */
  synced: boolean;
  /** Local changes the server has not acknowledged yet. */
  unsyncedChanges: number;
}

interface SessionEvents {
  state: SessionState;
  error: DeckhandError;
  document: Y.Doc;
}

const sameState = (a: SessionState, b: SessionState) => a.status === b.status && a.synced === b.synced && a.unsyncedChanges === b.unsyncedChanges;

export class PresentationSession {
  private document = new Y.Doc();
  readonly provider: HocuspocusProvider;
  readonly slides: Slides;
  readonly comments: Comments;
  readonly presence: Presence;
  readonly locks: Locks;
  private readonly events = new Emitter<SessionEvents>();
  private socketStatus: ConnectionStatus;
  private current: SessionState;
  private identity: TokenClaims | null = null;
  private closed = false;
  private readonly syncWaiters = new Set<{ resolve(): void; reject(error: DeckhandError): void }>();
  private readonly resync: DocumentResync;

  constructor(
    readonly id: string,
    socket: HocuspocusProviderWebsocket,
    token: TokenSource,
    private readonly release: () => void,
  ) {
    this.socketStatus = socket.status as ConnectionStatus;
    this.provider = new HocuspocusProvider({
      websocketProvider: socket,
      name: documentName(id),
      document: this.doc,
      // Re-run on every (re)connect and whenever the server asks for a fresh token (30 s before `exp`).
      token: async () => {
        const fresh = await resolveToken(token);
        this.identity = readClaims(fresh) ?? this.identity;
        return fresh;
      },
      onStatus: ({ status }) => {
        this.socketStatus = status as ConnectionStatus;
        this.refreshState();
      },
      onSynced: () => {
        this.resync.synced();
        this.refreshState();
        this.resync.check();
      },
      onUnsyncedChanges: () => {
        this.refreshState();
        this.resync.check();
      },
      onStateless: ({ payload }) => this.receiveStateless(payload),
      onAuthenticationFailed: ({ reason }) => {
        const code = isErrorCode(reason) ? reason : 'AUTHENTICATION_FAILED';
        this.events.emit('error', new DeckhandError(code, `the server refused presentation ${id}: ${reason}`));
      },
    });
    this.resync = new DocumentResync(this.provider, {
      adopt: (doc) => this.adopt(doc),
      changed: () => this.refreshState(),
      dropped: (error) => this.events.emit('error', error),
    });
    this.current = this.snapshot();
    this.slides = new Slides(this.doc);
    // The server accepts a new comment only when its author is the token's user (its `sub`).
    this.comments = new Comments(this.doc, () => this.identity?.sub ?? 'anonymous');
    this.presence = new Presence(this.provider.awareness as Awareness);
    this.locks = new Locks({
      send: async (payload) => {
        await this.whenSynced();
        this.provider.sendStateless(payload);
      },
      userId: () => this.identity?.sub,
    });
    this.provider.attach();
  }

  /** The presentation's document. Replaced by the server's after a refused edit: see `onDocument`. */
  get doc(): Y.Doc {
    return this.document;
  }

  get state(): SessionState {
    return this.current;
  }

  /** True while the document is being replaced by the server's after a refused edit. */
  get resyncing(): boolean {
    return this.resync.pending;
  }

  /** The signed-in user (from the token's claims), once the first token was fetched. */
  get user(): { id: string; name: string } | null {
    return this.identity ? { id: this.identity.sub, name: this.identity.name } : null;
  }

  /** Connection state changes (status, synced, unacknowledged edits). */
  onState(listener: (state: SessionState) => void): () => void {
    return this.events.on('state', listener);
  }

  /** Errors from the server: LOCKED (an edit rolled back), PERMISSION_DENIED, AUTHENTICATION_FAILED… */
  onError(listener: (error: DeckhandError) => void): () => void {
    return this.events.on('error', listener);
  }

  /**
   * The document was replaced by the server's, after the server refused an edit of this client (design §5): bind
   * editors to the new `doc` (Y.Text, Y.XmlFragment and UndoManagers of the old one no longer reach the server).
   * `slides`, `comments`, `presence` and `locks` follow by themselves, their listeners kept.
   */
  onDocument(listener: (doc: Y.Doc) => void): () => void {
    return this.events.on('document', listener);
  }

  /** Resolves once the document is synced with the server (at once when it is). */
  whenSynced(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.current.synced) return Promise.resolve();
    return new Promise((resolve, reject) => this.syncWaiters.add({ resolve, reject }));
  }

  /** Leaves the presentation (the shared socket stays open for the others). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.syncWaiters) waiter.reject(this.closedError());
    this.syncWaiters.clear();
    this.resync.dispose();
    this.locks.dispose();
    this.presence.dispose();
    this.slides.dispose();
    this.comments.dispose();
    this.provider.destroy();
    this.events.clear();
    this.release();
  }

  private closedError(): DeckhandError {
    return new DeckhandError('CONFLICT', `presentation ${this.id} is closed`);
  }

  private snapshot(): SessionState {
    // The provider clears isSynced on close after the socket reports it: a disconnected document is never synced.
    const synced = this.socketStatus === 'connected' && this.provider.isSynced;
    return { status: this.socketStatus, synced, unsyncedChanges: this.provider.unsyncedChanges };
  }

  private refreshState(): void {
    const next = this.snapshot();
    if (sameState(next, this.current)) return;
    this.current = next;
    if (next.synced) {
      for (const waiter of this.syncWaiters) waiter.resolve();
      this.syncWaiters.clear();
    }
    this.events.emit('state', next);
  }

  private receiveStateless(payload: string): void {
    const message = parseStateless(payload);
    if (message?.kind === 'locks') {
      this.locks.receiveTable(message.locks);
    } else if (message?.kind === 'locks_changed') {
      this.locks.receiveChanges(message.set, message.released);
    } else if (message?.kind === 'error') {
      this.locks.receiveError(message.error);
      this.events.emit('error', message.error);
      const refusal = refusalOf(message.error);
      if (refusal) this.resync.refused(refusal);
    }
  }

  private adopt(doc: Y.Doc): void {
    this.document = doc;
    this.slides.rebind(doc);
    this.comments.rebind(doc);
    this.refreshState();
    this.events.emit('document', doc);
  }
}
