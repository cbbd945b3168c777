/**
 * What follows a member change (added, role changed, removed) besides the row itself:
 * - open collaboration connections follow it on every instance (CollabService.publishRoleChange);
 * - a `membership` message on the member's channel `user_{id}` and on the presentation's `presence.{id}`, so the
 *   member's dashboards and whoever watches the presentation see it at once;
 * - a new member (added by someone else) gets a `share` notification (AUTO_NOTIFICATIONS).
 * A role set to what it already was changes nothing and announces nothing.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { MembershipMessage } from '../../shared/dashboard-api.js';
import { presenceChannel, userChannel } from '../../shared/channels.js';
import type { AutoNotifier } from '../auto-notifications/auto-notifier.js';
import type { CollabService } from '../collab/index.js';
import type { NotificationsService } from '../notifications/notifications-service.js';
import type { PresentationStore, Role } from '../store/presentations.js';

export interface MemberChange {
  presentationId: string;
  userId: string;
  previous: Role | null;
  /** null: removed. */
  role: Role | null;
  by: { userId: string; name: string };
}

export class MembershipAnnouncer {
  constructor(
    private readonly deps: {
      collab: Pick<CollabService, 'publishRoleChange'>;
      notifications: NotificationsService;
      presentations: PresentationStore;
      auto: AutoNotifier;
      log: FastifyBaseLogger;
    },
  ) {}

  async changed(change: MemberChange): Promise<void> {
    const { collab, notifications, presentations, auto, log } = this.deps;
    await collab.publishRoleChange(change.presentationId, change.userId, change.role);
    if (change.previous === change.role) return;
    const message: MembershipMessage = {
      type: 'membership',
      presentation_id: change.presentationId,
      user_id: change.userId,
      role: change.role,
      previous_role: change.previous,
      changed_by: change.by.userId,
      timestamp: new Date().toISOString(),
    };
    try {
      await Promise.all([
        notifications.announce(userChannel(change.userId), message),
        notifications.announce(presenceChannel(change.presentationId), message),
      ]);
    } catch (err) {
      log.warn({ err, presentationId: change.presentationId }, 'membership change not announced');
    }
    if (change.previous === null && change.role !== null && auto.isOn('share')) {
      const presentation = await presentations.get(change.presentationId).catch(() => null);
      await auto.memberAdded({
        presentationId: change.presentationId,
        title: presentation?.title ?? null,
        userId: change.userId,
        role: change.role,
        byUserId: change.by.userId,
        byName: change.by.name,
      });
    }
  }
}
