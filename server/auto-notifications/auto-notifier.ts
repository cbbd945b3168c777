/**
 * Automatic notifications (AUTO_NOTIFICATIONS, each kind on by default), sent through the notifications service like
 * any other (stored, then delivered; unread ones arrive on the next connect):
 * - `job`: a job that ends `completed` or `failed` notifies its user (category = the job's kind, `data.job_id`, and
 *   `data.presentation_id` when the result names one); a cancelled job does not (someone chose to end it);
 * - `share`: being added to a presentation by someone else notifies the new member (category `share`);
 * - `mention`: `@user_id` in a new comment notifies that member, once (category `comment`; see ./comment-mentions.ts).
 * Each is called once per event, on the instance where it happened. A failure to notify is logged and never fails
 * the action that caused it.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { CreateNotificationBody } from '../../shared/messages.js';
import type { AutoNotificationKind } from '../config.js';
import type { NotificationsService } from '../notifications/notifications-service.js';
import type { Job } from '../store/jobs.js';
import type { Role } from '../store/presentations.js';

const MAX_MESSAGE = 500;

export interface MemberAdded {
  presentationId: string;
  title: string | null;
  userId: string;
  role: Role;
  byUserId: string;
  byName: string;
}

export interface Mention {
  presentationId: string;
  title: string | null;
  /** The mentioned members (already checked: members of the presentation, not the author). */
  userIds: string[];
  slideId: string;
  commentId: string | null;
  authorId: string;
  authorName: string;
  text: string;
}

const clip = (text: string) => (text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text);

function errorText(error: unknown): string | null {
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : null;
}

export class AutoNotifier {
  constructor(
    private readonly kinds: Record<AutoNotificationKind, boolean>,
    private readonly notifications: NotificationsService,
    private readonly log: FastifyBaseLogger,
  ) {}

  isOn(kind: AutoNotificationKind): boolean {
    return this.kinds[kind];
  }

  async jobEnded(job: Job): Promise<void> {
    if (!this.kinds.job || (job.status !== 'completed' && job.status !== 'failed')) return;
    const name = job.title ?? job.kind;
    const data: Record<string, unknown> = { job_id: job.id, status: job.status };
    const presentationId = (job.result as { presentation_id?: unknown } | null)?.presentation_id;
    if (typeof presentationId === 'string') data.presentation_id = presentationId;
    const failed = job.status === 'failed';
    await this.send('job', {
      user_id: job.userId,
      notification_type: failed ? 'error' : 'success',
      title: clip(failed ? `${name} failed` : `${name} completed`),
      message: clip((failed ? errorText(job.error) : null) ?? job.message ?? (failed ? 'The job failed.' : 'The job is done.')),
      priority: failed ? 'high' : 'normal',
      category: job.kind,
      data,
    });
  }

  async memberAdded(added: MemberAdded): Promise<void> {
    if (!this.kinds.share || added.userId === added.byUserId) return;
    const name = added.title ?? added.presentationId;
    await this.send('share', {
      user_id: added.userId,
      notification_type: 'info',
      title: clip(`${added.byName} shared “${name}” with you`),
      message: clip(`You were added as ${added.role}.`),
      category: 'share',
      data: { presentation_id: added.presentationId, role: added.role, shared_by: added.byUserId },
    });
  }

  async mentioned(mention: Mention): Promise<void> {
    if (!this.kinds.mention || mention.userIds.length === 0) return;
    await this.send('mention', {
      user_ids: mention.userIds,
      notification_type: 'info',
      title: clip(`${mention.authorName} mentioned you in “${mention.title ?? mention.presentationId}”`),
      message: clip(mention.text),
      category: 'comment',
      data: {
        presentation_id: mention.presentationId,
        slide_id: mention.slideId,
        comment_id: mention.commentId,
        author: mention.authorId,
      },
    });
  }

  private async send(kind: AutoNotificationKind, body: CreateNotificationBody): Promise<void> {
    try {
      await this.notifications.send(body);
    } catch (err) {
      this.log.warn({ err, kind }, 'automatic notification not sent');
    }
  }
}
