/**
 * Slide locks on the collaboration connection, as a Hocuspocus extension: follows the locks of every loaded
 * document, sends the lock table on join, answers `lock_slide` / `unlock_slide` stateless messages, renews a
 * holder's locks on its activity and releases them when its connection leaves.
 */
import type {
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
import type { LockService } from './lock-service.js';
import type { ActivityRecorder } from '../../activity/index.js';

export class LockExtension implements Extension {
  priority = 750;
  extensionName = 'deckhand-locks';

  constructor(
    private readonly locks: LockService,
    private readonly logger: FastifyBaseLogger,
    /** Records lock changes (not renewals) in the presentation's activity. */
    private readonly activity?: ActivityRecorder,
  ) {}

  async afterLoadDocument({ documentName }: afterLoadDocumentPayload): Promise<void> {
    const presentationId = presentationIdOf(documentName);
    if (presentationId) await this.locks.track(presentationId);
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    const presentationId = presentationIdOf(documentName);
    if (presentationId) await this.locks.untrack(presentationId);
  }

  async connected({ connection, context }: connectedPayload): Promise<void> {
    if (isCollabContext(context)) connection.sendStateless(this.locks.message(context.presentationId));
  }

  async beforeSync({ connection, context }: beforeSyncPayload): Promise<void> {
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
        const result = await this.locks.acquire(presentationId, request.slide_id, {
          userId: principal.userId,
          name: principal.name,
          color: colourFor(principal.userId),
          connectionId: connection.socketId,
        });
        if (!result.ok) {
          reply('LOCKED', `slide ${request.slide_id} is locked by ${result.lock.name}`, {
            slide_id: request.slide_id,
            holder: { user_id: result.lock.userId, name: result.lock.name },
          });
        } else if (!result.changed) {
          // A renewal changes nothing others need to hear about; the requester still gets the table.
          connection.sendStateless(this.locks.message(presentationId));
        } else {
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
