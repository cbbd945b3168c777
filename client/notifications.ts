/**
 * Notifications of the signed-in user: live ones (`WS /api/v1/realtime/notifications`, SSE
 * `/api/v1/realtime/sse/notifications` as the fallback; channels `general` and `user_{id}`), the stored list and
 * marking read (REST). The live stream runs while someone is subscribed. Unread notifications missed while
 * offline arrive on (re)connect; each notification reaches the subscribers once, however often it is re-sent.
 */
import type { NotificationData, NotificationMessage } from '../shared/messages.js';
import type { ClientContext } from './context.js';
import { DeckhandError } from './errors.js';
import { Emitter } from './emitter.js';
import { asNotificationMessage, isNotificationData } from './live/messages.js';
import { LiveStream, type LiveStatus, type TransportMode } from './live/live-stream.js';
import { requestJson } from './rest.js';

const SEEN_MEMORY = 1000;
/** Notification ids are UUIDs (the server checks the exact pattern). */
const notificationIdRe = /^[0-9a-f-]{36}$/;

interface NotificationEvents {
  notification: NotificationMessage;
  read: string;
  readAll: number;
  deleted: string;
  error: DeckhandError;
  status: LiveStatus;
}

export interface NotificationList {
  notifications: NotificationData[];
  unread_count: number;
}

export class Notifications {
  private readonly events = new Emitter<NotificationEvents>();
  private readonly seen = new Set<string>();
  private stream: LiveStream | undefined;
  private subscribers = 0;

  constructor(
    private readonly ctx: ClientContext,
    private readonly mode: TransportMode = 'auto',
  ) {}

  /**
   * Calls `onNotification` for every new notification (the live message: `title`, `message`, `data`, … at top level;
   * `channel` is `user_{id}` for the user's own, which have a read state), and `onRead` when one is marked read (by
   * any tab or device of the user, this one included); returns the function that unsubscribes.
   */
  subscribe(onNotification: (notification: NotificationMessage) => void, onRead?: (id: string) => void): () => void {
    const offs = [this.events.on('notification', onNotification)];
    if (onRead) offs.push(this.events.on('read', onRead));
    this.subscribers++;
    if (!this.stream) this.open();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      offs.forEach((off) => off());
      if (--this.subscribers === 0) this.closeStream();
    };
  }

  /** Errors of the live stream; after a fatal one it is stopped, and the next subscribe starts it again. */
  onError(listener: (error: DeckhandError) => void): () => void {
    return this.events.on('error', listener);
  }

  onStatus(listener: (status: LiveStatus) => void): () => void {
    return this.events.on('status', listener);
  }

  /** Every unread notification was marked read (by any tab or device of the user); while subscribed. */
  onReadAll(listener: (updated: number) => void): () => void {
    return this.events.on('readAll', listener);
  }

  /** A notification was deleted (by any tab or device of the user); while subscribed. */
  onDeleted(listener: (id: string) => void): () => void {
    return this.events.on('deleted', listener);
  }

  async list(options: { unread?: boolean; limit?: number } = {}): Promise<NotificationList> {
    const query = new URLSearchParams();
    if (options.unread) query.set('unread', 'true');
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    const search = query.toString();
    const body = await requestJson(this.ctx, 'GET', `/api/v1/notifications${search ? `?${search}` : ''}`);
    const { notifications, unread_count: unreadCount } = (body ?? {}) as Record<string, unknown>;
    if (!Array.isArray(notifications) || !notifications.every(isNotificationData) || typeof unreadCount !== 'number') {
      throw new DeckhandError('INTERNAL_ERROR', 'unexpected notifications list from the server');
    }
    return { notifications, unread_count: unreadCount };
  }

  async markRead(id: string): Promise<NotificationData> {
    if (!notificationIdRe.test(id)) throw new TypeError(`not a notification id: ${JSON.stringify(id)}`);
    const body = (await requestJson(this.ctx, 'POST', `/api/v1/notifications/${id}/read`)) as Record<string, unknown> | undefined;
    if (!isNotificationData(body?.notification)) throw new DeckhandError('INTERNAL_ERROR', 'unexpected answer to mark read');
    return body.notification;
  }

  /** Marks every unread notification read; resolves with how many changed. */
  async markAllRead(): Promise<number> {
    const body = (await requestJson(this.ctx, 'POST', '/api/v1/notifications/read-all')) as Record<string, unknown> | undefined;
    if (typeof body?.updated !== 'number') throw new DeckhandError('INTERNAL_ERROR', 'unexpected answer to mark all read');
    return body.updated;
  }

  /** Deletes one of the user's notifications (NOT_FOUND when gone, PERMISSION_DENIED for a broadcast). */
  async remove(id: string): Promise<void> {
    if (!notificationIdRe.test(id)) throw new TypeError(`not a notification id: ${JSON.stringify(id)}`);
    await requestJson(this.ctx, 'DELETE', `/api/v1/notifications/${id}`);
  }

  close(): void {
    this.closeStream();
    this.events.clear();
    this.subscribers = 0;
  }

  private open(): void {
    this.stream = new LiveStream(this.ctx, {
      wsPath: '/api/v1/realtime/notifications',
      ssePath: '/api/v1/realtime/sse/notifications',
      mode: this.mode,
      onMessage: (message) => this.receive(message),
      onError: (error, fatal) => {
        this.events.emit('error', error);
        if (fatal) this.stream = undefined;
      },
      onStatus: (status) => this.events.emit('status', status),
    });
    this.stream.start();
  }

  private closeStream(): void {
    this.stream?.stop();
    this.stream = undefined;
  }

  private receive(message: Record<string, unknown>): void {
    const notification = asNotificationMessage(message);
    if (notification) {
      if (this.seen.has(notification.id)) return;
      this.remember(notification.id);
      this.events.emit('notification', notification);
    } else if (message.type === 'notification_read' && typeof message.id === 'string') {
      this.events.emit('read', message.id);
    } else if (message.type === 'notifications_read_all' && typeof message.updated === 'number') {
      this.events.emit('readAll', message.updated);
    } else if (message.type === 'notification_deleted' && typeof message.id === 'string') {
      this.events.emit('deleted', message.id);
    }
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > SEEN_MEMORY) this.seen.delete(this.seen.values().next().value as string);
  }
}
