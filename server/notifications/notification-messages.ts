/** The JSON shapes of a notification: its REST representation and its `notification` message (seed wire shape). */
import { channelName, GENERAL_CHANNEL, type ChannelRef } from '../../shared/channels.js';
import type { NotificationData, NotificationMessage } from '../../shared/messages.js';
import type { StoredNotification } from '../store/notifications.js';

/** The channel a stored notification was published on. */
export function channelRefOf(n: StoredNotification): ChannelRef {
  if (n.userId !== null) return { kind: 'user', userId: n.userId };
  return n.channel === GENERAL_CHANNEL ? { kind: 'general' } : { kind: 'custom', name: n.channel ?? '' };
}

export function notificationData(n: StoredNotification): NotificationData {
  return {
    id: n.id,
    user_id: n.userId,
    channel: channelName(channelRefOf(n)),
    notification_type: n.notificationType,
    title: n.title,
    message: n.message,
    data: n.data,
    priority: n.priority,
    category: n.category,
    action_url: n.actionUrl,
    action_text: n.actionText,
    created_at: n.createdAt,
    read: n.readAt !== null,
    read_at: n.readAt,
  };
}

/** The live message (WebSocket frame, SSE data): flat, in the seed's shape. */
export function notificationMessage(n: StoredNotification): NotificationMessage {
  return {
    type: 'notification',
    id: n.id,
    channel: channelName(channelRefOf(n)),
    notification_type: n.notificationType,
    title: n.title,
    message: n.message,
    data: n.data ?? {},
    priority: n.priority,
    category: n.category,
    action_url: n.actionUrl,
    action_text: n.actionText,
    read: n.readAt !== null,
    timestamp: n.createdAt,
  };
}

/** The notification id a bus event carries, if it is a `notification` message. */
export function notificationIdOf(json: unknown): string | undefined {
  const message = json as { type?: unknown; id?: unknown } | undefined;
  return message?.type === 'notification' && typeof message.id === 'string' ? message.id : undefined;
}
