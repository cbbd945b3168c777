/**
 * Slide locks on the collaboration connection, as a Hocuspocus extension: follows the locks of every loaded
 * document, sends the lock table on join and every change after that (`locks_changed`, as LockService emits them),
 * answers `lock_slide` / `unlock_slide` stateless messages (only for slides that exist in the document), renews a
 * holder's locks on its activity and releases them when its connection leaves.
 */
import type {
  Document,
  afterLoadDocumentPayload,
  afterUnloadDocumentPayload,
  beforeSyncPayload,
  connectedPayload,
  Extension,
  onDisconnectPayload,
  onStatelessPayload,
} from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import { colourFor } from '../../../shared/colour.js';
import { errorMessage } from '../../../shared/errors.js';
import { parseLockRequest } from '../../../shared/locks.js';
import { presentationIdOf } from '../../../shared/presentation.js';
import { isCollabContext } from '../context.js';
import type { ActivityRecorder } from '../../activity/index.js';
import type { LockChange, LockService } from './lock-service.js';
import { lockTargetOf } from './slide-ref.js';

export class LockExtension implements Extension {
  priority = 750;
  extensionName = 'deckhand-locks';
  /** Loaded documents by presentation id: where changes are sent. */
  private readonly documents = new Map<string, Document>();

  constructor(
    private readonly locks: LockService,
    private readonly logger: FastifyBaseLogger,
    /** Records lock changes (not renewals) in the presentation's activity. */
    private readonly activity?: ActivityRecorder,
  ) {
    locks.onChange((presentationId, change) => this.broadcast(presentationId, change));
  }

  async afterLoadDocument({ documentName, document }: afterLoadDocumentPayload): Promise<void> {
    const presentationId = presentationIdOf(documentName);
    if (!presentationId) return;
    this.documents.set(presentationId, document);
    await this.locks.track(presentationId);
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    const presentationId = presentationIdOf(documentName);
    if (!presentationId) return;
    this.documents.delete(presentationId);
    await this.locks.untrack(presentationId);
  }

  private broadcast(presentationId: string, change: LockChange): void {
    const document = this.documents.get(presentationId);
    if (!document) return;
    const payload = this.locks.changeMessage(presentationId, change);
    for (const connection of document.getConnections()) connection.sendStateless(payload);
  }

  async connected({ connection, context }: connectedPayload): Promise<void> {
    if (isCollabContext(context)) connection.sendStateless(this.locks.message(context.presentationId));
  }

  /** A sync message the write path let through (./message-hooks.ts: beforeSync, after the write path). */
  noteActivity({ connection, context }: beforeSyncPayload): void {
    if (!isCollabContext(context) || connection.readOnly) return;
    // Activity renews the holder's locks (throttled inside); never delays the update.
    void this.locks.touch(context.presentationId, connection.socketId).catch((err: unknown) => {
      this.logger.warn({ err }, 'could not renew locks');
    });
  }

  async onStateless({ connection, payload }: onStatelessPayload): Promise<void> {
    const request = parseLockRequest(payload);
    if (request === null) return; // not a lock message
    const context = connection.context as unknown;
    if (!isCollabContext(context)) return;
    const reply = (code: Parameters<typeof errorMessage>[0], message: string, details?: unknown) =>
      connection.sendStateless(JSON.stringify(errorMessage(code, message, details)));
    if ('error' in request) return reply('INVALID_MESSAGE', request.error);
    if (context.role !== 'owner' && context.role !== 'editor') {
      return reply('PERMISSION_DENIED', `a ${context.role} cannot lock slides`, { slide_id: request.slide_id });
    }
    const { principal, presentationId } = context;
    try {
      if (request.type === 'lock_slide') {
        const target = lockTargetOf(connection.document, request.slide_id);
        if (!target) return reply('NOT_FOUND', `slide ${request.slide_id} does not exist`, { slide_id: request.slide_id });
        const result = await this.locks.acquire(presentationId, target, {
          userId: principal.userId,
          name: principal.name,
          color: colourFor(principal.userId),
          connectionId: connection.socketId,
        });
        if (!result.ok && result.reason === 'held') {
          reply('LOCKED', `slide ${request.slide_id} is locked by ${result.lock.name}`, {
            slide_id: request.slide_id,
            holder: { user_id: result.lock.userId, name: result.lock.name },
          });
        } else if (!result.ok) {
          reply('RATE_LIMIT_EXCEEDED', `at most ${result.max} locks per ${result.limit}`, {
            slide_id: request.slide_id,
            limit: result.limit,
            max: result.max,
          });
        } else if (result.changed) {
          // A renewal is not activity worth recording (its new expiry reaches everyone as locks_changed).
          void this.activity?.record(presentationId, 'lock.acquired', principal, { slide_id: request.slide_id });
        }
      } else {
        const released = await this.locks.release(presentationId, request.slide_id, principal.userId);
        if (!released) reply('NOT_FOUND', `you hold no lock on slide ${request.slide_id}`, { slide_id: request.slide_id });
        else void this.activity?.record(presentationId, 'lock.released', principal, { slide_id: request.slide_id });
      }
    } catch (err) {
      this.logger.error({ err, presentationId }, 'lock request failed');
      reply('INTERNAL_ERROR', 'lock request failed');
    }
  }

  async onDisconnect({ documentName, socketId }: onDisconnectPayload): Promise<void> {
    const presentationId = presentationIdOf(documentName);
    if (!presentationId) return;
    await this.locks.releaseConnection(presentationId, socketId).catch((err: unknown) => {
      this.logger.warn({ err, presentationId }, 'could not release locks of a closed connection (they expire)');
    });
  }
}
