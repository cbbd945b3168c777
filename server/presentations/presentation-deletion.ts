/**
 * Deleting a presentation (its owner, or an admin token):
 * 1. in one transaction: the presentations row (every table that references it cascades), the document's snapshot
 *    and update log, and the id marked deleted, so opening it again does not re-create it;
 * 2. every open connection to the document is closed, on every instance (CollabService.closePresentation: the
 *    Yjs connections here, the JSON collaboration sockets through its onPresentationClosed event);
 * 3. each instance, once its copy of the document has left memory and its appends in flight are done, deletes the
 *    document rows again: an edit that was being stored while the connections closed, or the compaction of the
 *    closing copy, would otherwise leave rows of a deleted presentation behind;
 * 4. every former member's access is withdrawn on the bus, as a removal would be (their `presence.{id}` and
 *    `chat.{id}` subscriptions end with PERMISSION_DENIED), and `presentation_deleted` goes to the presentation's
 *    presence channel and to every former member's channel.
 * The request answers after steps 1, 2 and, on this instance, 3 (bounded by SETTLE_WAIT_MS).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { PresentationDeletedMessage } from '../../shared/dashboard-api.js';
import { presenceChannel, userChannel } from '../../shared/channels.js';
import { documentName } from '../../shared/presentation.js';
import { can, roleFor } from '../access/policy.js';
import type { Principal } from '../auth/jwt.js';
import type { CollabService } from '../collab/index.js';
import { DomainError } from '../errors.js';
import type { NotificationsService } from '../notifications/notifications-service.js';
import type { PresentationStore } from '../store/presentations.js';

/** How long the request waits for this instance's cleanup; it goes on in the background after that. */
const SETTLE_WAIT_MS = 5_000;
/** How long an instance waits for its copy of the document to leave memory before it cleans up anyway. */
const UNLOAD_WAIT_MS = 30_000;

export interface DeletionDeps {
  presentations: PresentationStore;
  collab: Pick<CollabService, 'hocuspocus' | 'updateLog' | 'closePresentation' | 'onPresentationClosed' | 'publishRoleChange'>;
  notifications: NotificationsService;
  log: FastifyBaseLogger;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export class PresentationDeletion {
  /** Cleanups running on this instance, by presentation id. */
  private readonly settling = new Map<string, Promise<void>>();
  private readonly stopListening: () => void;

  constructor(private readonly deps: DeletionDeps) {
    // Every instance cleans up after its own copy, whichever instance deleted the presentation.
    this.stopListening = deps.collab.onPresentationClosed((id) => void this.settle(id));
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const { presentations, collab, notifications, log } = this.deps;
    if (!(await presentations.get(id))) throw new DomainError('NOT_FOUND', `presentation ${id} not found`);
    const role = await roleFor(principal, (userId) => presentations.roleOf(id, userId));
    if (!role) throw new DomainError('PERMISSION_DENIED', 'not a member of this presentation');
    if (!can(role, 'delete_presentation')) throw new DomainError('PERMISSION_DENIED', 'only an owner deletes a presentation');
    const members = await presentations.members(id);
    if (!(await presentations.delete(id, principal.userId))) throw new DomainError('NOT_FOUND', `presentation ${id} not found`);
    log.info({ presentationId: id, userId: principal.userId }, 'presentation deleted');
    await collab.closePresentation(id);
    await Promise.race([this.settle(id), sleep(SETTLE_WAIT_MS)]);
    await Promise.all(members.map((m) => collab.publishRoleChange(id, m.userId, null)));
    const message: PresentationDeletedMessage = {
      type: 'presentation_deleted',
      presentation_id: id,
      deleted_by: principal.userId,
      timestamp: new Date().toISOString(),
    };
    const channels = [presenceChannel(id), ...members.map((m) => userChannel(m.userId))];
    await Promise.all(channels.map((channel) => notifications.announce(channel, message))).catch((err: unknown) => {
      log.warn({ err, presentationId: id }, 'presentation deletion not announced');
    });
  }

  stop(): void {
    this.stopListening();
  }

  /** This instance's cleanup after closing the presentation (once at a time per presentation). */
  private settle(id: string): Promise<void> {
    let running = this.settling.get(id);
    if (!running) {
      running = this.purgeAfterUnload(id)
        .catch((err: unknown) => this.deps.log.warn({ err, presentationId: id }, 'cleanup after deleting a presentation failed'))
        .finally(() => this.settling.delete(id));
      this.settling.set(id, running);
    }
    return running;
  }

  private async purgeAfterUnload(id: string): Promise<void> {
    const { collab, presentations, log } = this.deps;
    const name = documentName(id);
    const deadline = Date.now() + UNLOAD_WAIT_MS;
    while (collab.hocuspocus.documents.has(name) && Date.now() < deadline) await sleep(25);
    await Promise.race([collab.updateLog.drain(), sleep(Math.max(0, deadline - Date.now()))]);
    const purged = await presentations.purgeDeletedDocument(id);
    if (purged > 0) log.info({ presentationId: id, rows: purged }, 'rows stored while a deleted presentation closed were removed');
  }
}
