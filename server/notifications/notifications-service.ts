/**
 * Notifications: stored in Postgres first, then published: to `user.{id}` for each recipient (one row each, with its
 * own read state), or once to a channel (`general` or `custom.{name}`) for a broadcast. Reading one publishes
 * `notification_read` on the user's channel, so every open tab of the user hears it. A timer purges read
 * notifications (and broadcasts) older than NOTIFICATION_RETENTION_HOURS.
 */
import type { FastifyBaseLogger } from 'fastify';
import { busChannel, GENERAL_CHANNEL, isCustomChannelName, userChannel } from '../../shared/channels.js';
import type {
  CreateNotificationBody,
  NotificationDeletedMessage,
  NotificationReadMessage,
  NotificationsReadAllMessage,
} from '../../shared/messages.js';
import type { Principal } from '../auth/jwt.js';
import type { Bus } from '../bus/types.js';
import { DomainError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { NotificationContent, NotificationStore, StoredNotification } from '../store/notifications.js';
import { MessageRetry } from '../streaming/publish-retry.js';
import { channelRefOf, notificationMessage } from './notification-messages.js';

/** Unread notifications sent on connect (the most recent ones; the rest stay listed by GET /notifications). */
export const UNREAD_ON_CONNECT = 100;
const PURGE_EVERY_MS = 10 * 60 * 1000;

export class NotificationsService {
  private purgeTimer: NodeJS.Timeout | undefined;
  private firstPurge: NodeJS.Timeout | undefined;

  /** Messages the bus could not take (Redis down), published in order once it is back. */
  private readonly retry: MessageRetry;

  constructor(
    private readonly store: NotificationStore,
    bus: Bus,
    metrics: Metrics,
    private readonly log: FastifyBaseLogger,
    private readonly retentionHours: number,
  ) {
    this.retry = new MessageRetry(bus, metrics, log);
  }

  /** Stores and publishes a notification for exactly one of: user_id, user_ids, channel. */
  async send(body: CreateNotificationBody): Promise<StoredNotification[]> {
    const targets = [body.user_id, body.user_ids, body.channel].filter((t) => t !== undefined).length;
    if (targets !== 1) throw new DomainError('INVALID_MESSAGE', 'give exactly one of user_id, user_ids, channel');
    const content: NotificationContent = {
      notificationType: body.notification_type ?? 'info',
      title: body.title,
      message: body.message,
      data: body.data ?? null,
      priority: body.priority ?? 'normal',
      category: body.category ?? null,
      actionUrl: body.action_url ?? null,
      actionText: body.action_text ?? null,
    };
    if (body.channel !== undefined) {
      if (body.channel !== GENERAL_CHANNEL && !isCustomChannelName(body.channel)) {
        throw new DomainError('INVALID_MESSAGE', 'channel must be "general" or a custom channel name (use user_id for a user)');
      }
      const stored = await this.store.createForChannel(body.channel, content);
      await this.publish(busChannel(channelRefOf(stored)), notificationMessage(stored));
      return [stored];
    }
    const userIds = body.user_ids ?? [body.user_id!];
    const stored = await this.store.createForUsers(userIds, content);
    await Promise.all(stored.map((n) => this.publish(userChannel(n.userId!), notificationMessage(n))));
    return stored;
  }

  /** Marks the caller's notification read: 404 when missing, 403 when it is someone else's (or a broadcast). */
  async markRead(principal: Principal, id: string): Promise<{ notification: StoredNotification; changed: boolean }> {
    const result = await this.store.markRead(principal.userId, id);
    if (!result.ok) {
      if (result.reason === 'not_found') throw new DomainError('NOT_FOUND', `notification ${id} not found`);
      throw new DomainError('PERMISSION_DENIED', 'not your notification');
    }
    if (result.changed) {
      const message: NotificationReadMessage = { type: 'notification_read', id, timestamp: new Date().toISOString() };
      await this.publish(userChannel(principal.userId), message);
    }
    return { notification: result.notification, changed: result.changed };
  }

  /** Marks every unread notification of the caller read; the user's connections hear it when any changed. */
  async markAllRead(principal: Principal): Promise<number> {
    const updated = await this.store.markAllRead(principal.userId);
    if (updated > 0) {
      const message: NotificationsReadAllMessage = { type: 'notifications_read_all', updated, timestamp: new Date().toISOString() };
      await this.publish(userChannel(principal.userId), message);
    }
    return updated;
  }

  /** Deletes the caller's notification: 404 when missing, 403 when it is someone else's (or a broadcast). */
  async remove(principal: Principal, id: string): Promise<void> {
    const result = await this.store.delete(principal.userId, id);
    if (!result.ok) {
      if (result.reason === 'not_found') throw new DomainError('NOT_FOUND', `notification ${id} not found`);
      throw new DomainError('PERMISSION_DENIED', 'not your notification');
    }
    const message: NotificationDeletedMessage = { type: 'notification_deleted', id, timestamp: new Date().toISOString() };
    await this.publish(userChannel(principal.userId), message);
  }

  /**
   * Publishes a message that is not a stored notification (a membership change, a deleted presentation) on a bus
   * channel (`user.{id}`, `presence.{id}`), with the same retry while the bus is down.
   */
  async announce(channel: string, message: { type: string; timestamp: string }): Promise<void> {
    await this.publish(channel, message);
  }

  /** Notifications stored (every instance's): GET /realtime/stats' notification_history_size. */
  storedCount(): Promise<number> {
    return this.store.count();
  }

  list(userId: string, options: { unreadOnly: boolean; limit: number }): Promise<StoredNotification[]> {
    return this.store.listForUser(userId, options);
  }

  unreadForDelivery(userId: string): Promise<StoredNotification[]> {
    return this.store.unreadForDelivery(userId, UNREAD_ON_CONNECT);
  }

  unreadCount(userId: string): Promise<number> {
    return this.store.unreadCount(userId);
  }

  async purgeExpired(): Promise<number> {
    const purged = await this.store.purgeOlderThan(this.retentionHours);
    if (purged > 0) this.log.info({ purged, retentionHours: this.retentionHours }, 'old notifications purged');
    return purged;
  }

  /** Purges now and every 10 minutes (every instance does; the DELETE is idempotent). */
  startRetention(): void {
    const run = () => void this.purgeExpired().catch((err: unknown) => this.log.warn({ err }, 'notification purge failed'));
    this.purgeTimer = setInterval(run, PURGE_EVERY_MS).unref();
    this.firstPurge = setTimeout(run, 1000).unref();
  }

  stopRetention(): void {
    clearInterval(this.purgeTimer);
    clearTimeout(this.firstPurge);
    this.purgeTimer = this.firstPurge = undefined;
    this.retry.stop();
  }

  /** Postgres holds the notification already: when the bus is down it is published once the bus is back. */
  private async publish(channel: string, message: object): Promise<void> {
    await this.retry.publish(channel, JSON.stringify(message));
  }
}
