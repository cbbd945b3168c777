/**
 * One live document and the JSON clients of it on this instance: the hub between the Yjs document and the JSON
 * collaboration sockets. It holds the document open, keeps the mirror (./mirror.ts) and sends every change to every
 * JSON client as `edit_operation` (serialized once per change), presence from the awareness (./presence-view.ts),
 * the lock table on every change, and role changes from the members channel. Built when the first JSON client of a
 * document connects on this instance, disposed with the last.
 */
import type { Document, Connection } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import type * as Y from 'yjs';
import type {
  CursorUpdateEvent,
  EditOperationEvent,
  PresenceUpdateEvent,
  UserJoinedMessage,
  UserLeftMessage,
} from '../../shared/collaboration-messages.js';
import type { DocumentJson } from '../../shared/document-json.js';
import type { AppliedOperation, SlideField } from '../../shared/operations.js';
import type { Bus, Unsubscribe } from '../bus/types.js';
import { isCollabContext } from '../collab/context.js';
import type { LockService } from '../collab/locks/lock-service.js';
import { membersChannel, type RoleChange } from '../collab/membership-sync.js';
import { isRole, type Role } from '../store/presentations.js';
import type { DocumentHandle } from './document-service.js';
import { DocumentMirror } from './mirror.js';
import { authorOf } from './origin.js';
import { PresenceView, type PresenceChange } from './presence-view.js';

/** What the bridge needs of a JSON client. */
export interface BridgeClient {
  readonly userId: string;
  /** A frame to send as is (shared by every client of the document). */
  sendFrame(frame: string): void;
  /** The user's role changed (null: removed from the presentation). */
  roleChanged(role: Role | null): void;
  /** Closes the client's socket: the server is shutting down ("reconnect"), or the presentation was deleted. */
  end(reason: 'shutdown' | 'deleted'): void;
}

/** Who made a transaction: a JSON client's operation, a Yjs connection, or unknown (another instance, the server). */
function authorOfTransaction(origin: unknown): { userId: string | null; operationId?: string } {
  const author = authorOf(origin);
  if (author) return { userId: author.userId, ...(author.operationId !== undefined ? { operationId: author.operationId } : {}) };
  const connection = (origin as { source?: unknown; connection?: Connection } | null)?.connection;
  const context = connection?.context as unknown;
  return { userId: isCollabContext(context) ? context.principal.userId : null };
}

export class DocumentBridge {
  private readonly clients = new Set<BridgeClient>();
  private readonly mirror: DocumentMirror;
  readonly presence: PresenceView;
  private readonly stopLocks: () => void;
  private readonly members: Promise<Unsubscribe>;
  private readonly onTransaction = (transaction: Y.Transaction) => this.relayChange(transaction);
  readonly stats = { operationsSent: 0 };
  /** Set when its last client left: it is being disposed and takes no one new. */
  closed = false;

  constructor(
    readonly presentationId: string,
    private readonly handle: DocumentHandle,
    locks: LockService,
    bus: Bus,
    private readonly logger: FastifyBaseLogger,
  ) {
    const document = handle.document;
    this.mirror = new DocumentMirror(document);
    document.on('afterTransaction', this.onTransaction);
    this.presence = new PresenceView(document, document.awareness, (changes) => this.relayPresence(changes));
    this.stopLocks = locks.onChange((id) => {
      if (id === presentationId) this.broadcast(locks.message(presentationId));
    });
    this.members = bus.subscribe(membersChannel(presentationId), {
      event: (event) => {
        const change = event.json() as Partial<RoleChange> | undefined;
        if (!change || typeof change.user_id !== 'string' || !(change.role === null || isRole(change.role))) return;
        for (const client of this.clients) if (client.userId === change.user_id) client.roleChanged(change.role ?? null);
      },
    });
    this.members.catch((err: unknown) => logger.warn({ err, presentationId }, 'JSON clients will not follow role changes'));
  }

  get document(): Document {
    return this.handle.document;
  }

  /** A slide field's plain text as JSON clients have it (the same as the document's, between transactions). */
  textOf(slideId: string, field: SlideField): string | undefined {
    return this.mirror.textOf(slideId, field);
  }

  get size(): number {
    return this.clients.size;
  }

  /** Adds a client; returns the document as it is now (every later change reaches the client as an operation). */
  join(client: BridgeClient): DocumentJson {
    this.clients.add(client);
    return this.mirror.snapshot();
  }

  leave(client: BridgeClient): void {
    this.clients.delete(client);
  }

  /** Closes every client's socket; each leaves as its socket closes. */
  closeClients(reason: 'shutdown' | 'deleted'): void {
    for (const client of [...this.clients]) client.end(reason);
  }

  async dispose(): Promise<void> {
    this.handle.document.off('afterTransaction', this.onTransaction);
    this.presence.dispose();
    this.stopLocks();
    (await this.members.catch(() => () => {}))();
    await this.handle.release();
  }

  private relayChange(transaction: Y.Transaction): void {
    let ops: AppliedOperation[];
    try {
      ops = this.mirror.changes(transaction);
    } catch (err) {
      this.logger.error({ err, presentationId: this.presentationId }, 'could not translate a change for JSON clients');
      return;
    }
    if (ops.length === 0) return;
    const author = authorOfTransaction(transaction.origin);
    const timestamp = new Date().toISOString();
    for (const operation of ops) {
      const message: EditOperationEvent = { type: 'edit_operation', operation, user_id: author.userId, timestamp };
      if (author.operationId !== undefined) message.operation_id = author.operationId;
      this.broadcast(JSON.stringify(message));
    }
    this.stats.operationsSent += ops.length;
  }

  private relayPresence(changes: PresenceChange[]): void {
    const timestamp = new Date().toISOString();
    for (const change of changes) {
      let message: UserJoinedMessage | PresenceUpdateEvent | UserLeftMessage | CursorUpdateEvent;
      let userId: string;
      if (change.kind === 'user_left') {
        userId = change.userId;
        message = { type: 'user_left', user_id: userId, timestamp };
      } else if (change.kind === 'cursor_update') {
        userId = change.userId;
        message = { type: 'cursor_update', user_id: userId, ...change.cursor, timestamp };
      } else {
        userId = change.user.user_id;
        message = { type: change.kind, ...change.user, timestamp };
      }
      const frame = JSON.stringify(message);
      // A client hears about the others, not about itself.
      for (const client of this.clients) if (client.userId !== userId) client.sendFrame(frame);
    }
  }

  private broadcast(frame: string): void {
    for (const client of this.clients) client.sendFrame(frame);
  }
}
