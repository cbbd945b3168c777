/**
 * Automatic notifications, wired to what causes them: jobs that end (JobsService.onEnded), new comments that mention
 * someone (./comment-mentions.ts, a collaboration extension), and new members (server/presentations'
 * MembershipAnnouncer calls AutoNotifier.memberAdded). Which kinds are on: AUTO_NOTIFICATIONS.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { JobsService } from '../jobs/jobs-service.js';
import type { NotificationsService } from '../notifications/notifications-service.js';
import type { PresentationStore } from '../store/presentations.js';
import { AutoNotifier } from './auto-notifier.js';
import type { CommentMentions, NewComment } from './comment-mentions.js';

export { AutoNotifier } from './auto-notifier.js';
export { CommentMentions } from './comment-mentions.js';

export interface AutoNotificationDeps {
  config: Config;
  jobs: JobsService;
  mentions: CommentMentions;
  notifications: NotificationsService;
  presentations: PresentationStore;
  log: FastifyBaseLogger;
}

export function startAutoNotifications(deps: AutoNotificationDeps): AutoNotifier {
  const { config, jobs, mentions, notifications, presentations, log } = deps;
  const auto = new AutoNotifier(config.autoNotifications, notifications, log);
  if (config.autoNotifications.job) jobs.onEnded((job) => auto.jobEnded(job));
  if (config.autoNotifications.mention) {
    mentions.onMention((comment) => {
      notifyMentioned(comment).catch((err: unknown) => log.warn({ err, presentationId: comment.presentationId }, 'mention not notified'));
    });
  }

  /** Only members are notified, never the author. */
  async function notifyMentioned(comment: NewComment): Promise<void> {
    const candidates = comment.mentioned.filter((id) => id !== comment.authorId);
    const roles = await Promise.all(candidates.map((id) => presentations.roleOf(comment.presentationId, id)));
    const members = candidates.filter((_, i) => roles[i] !== null);
    if (members.length === 0) return;
    const presentation = await presentations.get(comment.presentationId);
    await auto.mentioned({
      presentationId: comment.presentationId,
      title: presentation?.title ?? null,
      userIds: members,
      slideId: comment.slideId,
      commentId: comment.commentId,
      authorId: comment.authorId,
      authorName: comment.authorName,
      text: comment.text,
    });
  }

  return auto;
}
