/**
 * `WS /api/v1/realtime/collaboration/{presentation_id}?token=`: the JSON collaboration socket (messages in
 * shared/collaboration-messages.ts). The same roles, locks and document as /collab:
 * - on join: `connected` with the document as plain JSON, the users present and the locks; the user appears in
 *   the Yjs awareness (./json-awareness.ts);
 * - `edit_operation`: checked and applied as one server transaction (LOCKED / PERMISSION_DENIED / INVALID_MESSAGE:
 *   nothing applied), seen by everyone at once (the sender too, as `edit_operation` with its operation_id), and
 *   acknowledged with `edit_ack` once stored, in order. Operations are applied as they arrive, not one commit at a
 *   time: a client may send the next before the previous is acknowledged;
 * - every other change of the document, Yjs editors' included, arrives as `edit_operation` (./bridge.ts);
 * - `presence_update`, `cursor_update`, `lock_slide` / `unlock_slide`, `ping`, `auth` (a fresh token).
 * Frame size, message rate, outbound buffer and token expiry as on the other JSON sockets. A presentation that does
 * not exist: NOT_FOUND and close 4404 (unless AUTO_CREATE_PRESENTATIONS); not a member: PERMISSION_DENIED, 4403.
 */
import { throwIfRefused } from '../collab/locks/acquire-refusal.js';
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import {
  COLLABORATION_CLIENT_SCHEMAS,
  type CollaborationClientMessage,
  type CollaborationConnectedMessage,
  type EditAckMessage,
} from '../../shared/collaboration-messages.js';
import { colourFor } from '../../shared/colour.js';
import { CLOSE_CODES } from '../../shared/errors.js';
import type { Operation } from '../../shared/operations.js';
import { can } from '../access/policy.js';
import type { Principal } from '../auth/jwt.js';
import type { LockService } from '../collab/locks/lock-service.js';
import { toSlideLock } from '../collab/locks/lock-service.js';
import { lockTargetOf } from '../collab/locks/slide-ref.js';
import { DomainError } from '../errors.js';
import type { ConnectionMeter } from '../metrics.js';
import type { StreamingContext } from '../streaming/context.js';
import type { JsonSocket } from '../streaming/json-socket.js';
import { createMessageParser } from '../streaming/message-parser.js';
import { openSessionSocket, SocketSession } from '../streaming/socket-session.js';
import type { Upgrade } from '../streaming/upgrade.js';
import type { Role } from '../store/presentations.js';
import type { AwarenessRelay } from './awareness-relay.js';
import type { BridgeClient, DocumentBridge } from './bridge.js';
import type { DocumentBridges } from './bridges.js';
import type { DocumentService } from './document-service.js';
import { JsonAwareness } from './json-awareness.js';

const parseMessage = createMessageParser<CollaborationClientMessage>(COLLABORATION_CLIENT_SCHEMAS);

export interface CollaborationSocketDeps {
  streaming: StreamingContext;
  documents: DocumentService;
  bridges: DocumentBridges;
  locks: LockService;
  relay: AwarenessRelay;
}

export function openCollaborationSocket(socket: WebSocket, request: FastifyRequest, presentationId: string, deps: CollaborationSocketDeps): void {
  // The session keeps copies of what it needs of the request (as the sockets taken by streaming/upgrade.ts do).
  const query = request.query as { token?: string };
  const upgrade: Upgrade = {
    params: { presentation_id: presentationId },
    query: { token: query.token },
    headers: { origin: request.headers.origin, authorization: request.headers.authorization },
  };
  openSessionSocket(socket, upgrade, deps.streaming, 'collaboration', parseMessage, (conn, principal, meter) => {
    return new CollaborationSession(conn, principal, deps, meter, request.log, presentationId);
  });
}

class CollaborationSession extends SocketSession<CollaborationClientMessage> implements BridgeClient {
  /** The lock holder id of this socket (locks taken here are released when it closes). */
  private readonly connectionId = `json:${randomUUID()}`;
  private role: Role = 'viewer';
  private bridge: DocumentBridge | undefined;
  private awareness: JsonAwareness | undefined;
  /** Acknowledgements go out in order, each once its operation is stored. */
  private acks: Promise<void> = Promise.resolve();

  constructor(
    conn: JsonSocket<CollaborationClientMessage>,
    principal: Principal,
    private readonly deps: CollaborationSocketDeps,
    meter: ConnectionMeter,
    log: FastifyBaseLogger,
    private readonly presentationId: string,
  ) {
    super(conn, principal, deps.streaming, meter, log);
  }

  get userId(): string {
    return this.principal.userId;
  }

  async start(): Promise<void> {
    const { documents, bridges, locks } = this.deps;
    try {
      this.role = await documents.authorize(this.principal, this.presentationId, 'read', true);
      const joined = await bridges.join(this.presentationId, this);
      this.bridge = joined.bridge;
      if (this.disposed) return void bridges.leave(joined.bridge, this);
      this.awareness = new JsonAwareness(joined.bridge.document, { id: this.principal.userId, name: this.principal.name }, (update) =>
        this.deps.relay.publish(this.presentationId, update),
      );
      const connected: CollaborationConnectedMessage = {
        type: 'connected',
        presentation_id: this.presentationId,
        user_id: this.principal.userId,
        role: this.role,
        document: joined.document,
        users: joined.bridge.presence.list(),
        locks: locks.cached(this.presentationId).map(toSlideLock),
        token_expires_at: new Date(this.principal.expiresAt).toISOString(),
        timestamp: new Date().toISOString(),
      };
      this.conn.send(connected);
    } catch (err) {
      this.refuse(err);
      return;
    }
    this.conn.handle(this);
  }

  sendFrame(frame: string): void {
    this.conn.sendFrame(frame);
  }

  roleChanged(role: Role | null): void {
    if (role === null) {
      this.conn.fail('PERMISSION_DENIED', 'your access was revoked', CLOSE_CODES.PERMISSION_DENIED.code, CLOSE_CODES.PERMISSION_DENIED.reason);
    } else {
      this.role = role;
    }
  }

  end(reason: 'shutdown' | 'deleted'): void {
    if (reason === 'deleted') {
      this.conn.fail('NOT_FOUND', `presentation ${this.presentationId} was deleted`, CLOSE_CODES.NOT_FOUND.code, CLOSE_CODES.NOT_FOUND.reason);
    } else {
      this.conn.close(CLOSE_CODES.SERVER_SHUTDOWN.code, CLOSE_CODES.SERVER_SHUTDOWN.reason);
    }
  }

  override dispose(): void {
    if (this.disposed) return;
    super.dispose();
    this.awareness?.dispose();
    if (this.bridge)
      void this.deps.bridges.leave(this.bridge, this).catch((err: unknown) => this.log.warn({ err }, 'could not leave a document bridge'));
    void this.deps.locks.releaseConnection(this.presentationId, this.connectionId).catch((err: unknown) => {
      this.log.warn({ err, presentationId: this.presentationId }, 'could not release locks of a closed JSON connection (they expire)');
    });
  }

  private refuse(err: unknown): void {
    if (err instanceof DomainError && err.code === 'NOT_FOUND') {
      this.conn.fail(err.code, err.message, CLOSE_CODES.NOT_FOUND.code, CLOSE_CODES.NOT_FOUND.reason);
    } else if (err instanceof DomainError && err.code === 'PERMISSION_DENIED') {
      this.conn.fail(err.code, err.message, CLOSE_CODES.PERMISSION_DENIED.code, CLOSE_CODES.PERMISSION_DENIED.reason);
    } else {
      this.sendFailure(err);
      this.conn.close(CLOSE_CODES.TRY_AGAIN_LATER.code, CLOSE_CODES.TRY_AGAIN_LATER.reason);
    }
  }

  /** A message of the connection (called by the JsonSocket). */
  async onMessage(message: CollaborationClientMessage): Promise<void> {
    if (this.handleCommon(message)) return;
    try {
      switch (message.type) {
        case 'edit_operation':
          return this.edit(message.operation);
        case 'presence_update':
          this.awareness?.setPresence({
            ...(message.slide_id !== undefined ? { slide_id: message.slide_id } : {}),
            ...(message.status !== undefined ? { status: message.status } : {}),
          });
          return;
        case 'cursor_update':
          if (!this.awareness?.setCursor(message.slide_id, message.field ?? null, message.index ?? null)) {
            throw new DomainError('INVALID_MESSAGE', `no slide ${message.slide_id}`, { slide_id: message.slide_id });
          }
          return;
        case 'lock_slide':
          return await this.lock(message.slide_id);
        case 'unlock_slide':
          return await this.unlock(message.slide_id);
      }
    } catch (err) {
      this.sendFailure(err);
    }
  }

  private edit(operation: Operation): void {
    const operationId = operation.operation_id;
    const bridge = this.bridge as DocumentBridge;
    if (!can(this.role, 'edit')) {
      throw new DomainError('PERMISSION_DENIED', `a ${this.role} cannot edit the document`, { operation_id: operationId ?? null });
    }
    const { stored } = this.deps.documents.applyLive(
      this.presentationId,
      bridge.document,
      [operation],
      { userId: this.principal.userId, ...(operationId !== undefined ? { operationId } : {}) },
      (slideId, field) => bridge.textOf(slideId, field),
    );
    // Editing renews the locks this socket holds.
    void this.deps.locks.touch(this.presentationId, this.connectionId).catch(() => undefined);
    this.acks = this.acks.then(() =>
      stored.then(
        () => {
          const ack: EditAckMessage = { type: 'edit_ack', operation_id: operationId ?? null, timestamp: new Date().toISOString() };
          this.conn.send(ack);
        },
        (err: unknown) => {
          // Not stored: the client resynchronizes from a new `connected` after reconnecting.
          this.sendFailure(err);
          this.conn.close(CLOSE_CODES.TRY_AGAIN_LATER.code, CLOSE_CODES.TRY_AGAIN_LATER.reason);
        },
      ),
    );
  }

  private async lock(slideId: string): Promise<void> {
    if (!can(this.role, 'lock')) throw new DomainError('PERMISSION_DENIED', `a ${this.role} cannot lock slides`, { slide_id: slideId });
    const target = lockTargetOf((this.bridge as DocumentBridge).document, slideId);
    if (!target) throw new DomainError('NOT_FOUND', `no slide ${slideId}`, { slide_id: slideId });
    const result = await this.deps.locks.acquire(this.presentationId, target, {
      userId: this.principal.userId,
      name: this.principal.name,
      color: colourFor(this.principal.userId),
      connectionId: this.connectionId,
    });
    throwIfRefused(slideId, result);
    // Taken or renewed (a new expiry), the change reaches every JSON client of the document as the `locks` table
    // (DocumentBridge follows LockService.onChange), the requester included.
  }

  private async unlock(slideId: string): Promise<void> {
    if (!(await this.deps.locks.release(this.presentationId, slideId, this.principal.userId))) {
      throw new DomainError('NOT_FOUND', `you hold no lock on slide ${slideId}`, { slide_id: slideId });
    }
  }
}
