/**
 * Notifications: one row per recipient for user notifications (each with its own read
 * state), one row per broadcast for channel notifications (no read state). Purged after the retention period.
 */
import { randomUUID } from 'node:crypto';
import type { NotificationPriority, NotificationType } from '../../shared/messages.js';
import type { Db } from './db.js';

export interface NotificationContent {
  notificationType: NotificationType;
  title: string;
  message: string;
  data: Record<string, unknown> | null;
  priority: NotificationPriority;
  category: string | null;
  actionUrl: string | null;
  actionText: string | null;
}

export interface StoredNotification extends NotificationContent {
  id: string;
  /** The recipient, or null for a channel broadcast. */
  userId: string | null;
  /** The broadcast channel (`general` or a custom name), or null for a user notification. */
  channel: string | null;
  createdAt: string;
  readAt: string | null;
}

export type DeleteResult = { ok: true } | { ok: false; reason: 'not_found' | 'not_yours' };

export type MarkReadResult = { ok: true; notification: StoredNotification; changed: boolean } | { ok: false; reason: 'not_found' | 'not_yours' };

interface NotificationRow {
  id: string;
  user_id: string | null;
  channel: string | null;
  notification_type: NotificationType;
  title: string;
  message: string;
  data: Record<string, unknown> | null;
  priority: NotificationPriority;
  category: string | null;
  action_url: string | null;
  action_text: string | null;
  created_at: Date | string;
  read_at: Date | string | null;
}

const iso = (v: Date | string) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

function toNotification(row: NotificationRow): StoredNotification {
  return {
    id: row.id,
    userId: row.user_id,
    channel: row.channel,
    notificationType: row.notification_type,
    title: row.title,
    message: row.message,
    data: row.data ?? null,
    priority: row.priority,
    category: row.category,
    actionUrl: row.action_url,
    actionText: row.action_text,
    createdAt: iso(row.created_at),
    readAt: row.read_at === null ? null : iso(row.read_at),
  };
}

const CONTENT_COLUMNS = 'notification_type, title, message, data, priority, category, action_url, action_text';

function contentParams(c: NotificationContent): unknown[] {
  return [c.notificationType, c.title, c.message, c.data === null ? null : JSON.stringify(c.data), c.priority, c.category, c.actionUrl, c.actionText];
}

export class NotificationStore {
  constructor(private readonly db: Db) {}

  /** One notification per user (ids in the order of `userIds`). */
  async createForUsers(userIds: string[], content: NotificationContent): Promise<StoredNotification[]> {
    const ids = userIds.map(() => randomUUID());
    const { rows } = await this.db.query<NotificationRow & { ord: number }>(
      `INSERT INTO notifications (id, user_id, ${CONTENT_COLUMNS})
       SELECT r.id, r.user_id, $3, $4, $5, $6::jsonb, $7, $8, $9, $10
       FROM unnest($1::uuid[], $2::text[]) AS r (id, user_id)
       RETURNING *`,
      [ids, userIds, ...contentParams(content)],
    );
    const byId = new Map(rows.map((r) => [r.id, toNotification(r)]));
    return ids.map((id) => byId.get(id)!).filter(Boolean);
  }

  async createForChannel(channel: string, content: NotificationContent): Promise<StoredNotification> {
    const { rows } = await this.db.query<NotificationRow>(
      `INSERT INTO notifications (id, channel, ${CONTENT_COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10) RETURNING *`,
      [randomUUID(), channel, ...contentParams(content)],
    );
    return toNotification(rows[0]!);
  }

  /** The user's notifications, newest first. */
  async listForUser(userId: string, options: { unreadOnly: boolean; limit: number }): Promise<StoredNotification[]> {
    const { rows } = await this.db.query<NotificationRow>(
      `SELECT * FROM notifications WHERE user_id = $1 ${options.unreadOnly ? 'AND read_at IS NULL' : ''}
       ORDER BY created_at DESC, id DESC LIMIT $2`,
      [userId, options.limit],
    );
    return rows.map(toNotification);
  }

  /** The user's unread notifications, oldest first (the most recent `limit`): delivered on connect. */
  async unreadForDelivery(userId: string, limit: number): Promise<StoredNotification[]> {
    const { rows } = await this.db.query<NotificationRow>(
      `SELECT * FROM (
         SELECT * FROM notifications WHERE user_id = $1 AND read_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $2
       ) recent ORDER BY created_at, id`,
      [userId, limit],
    );
    return rows.map(toNotification);
  }

  async unreadCount(userId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number | string }>('SELECT count(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL', [
      userId,
    ]);
    return Number(rows[0]?.n ?? 0);
  }

  /** Marks the user's own notification read (idempotent: the first read time is kept). */
  async markRead(userId: string, id: string): Promise<MarkReadResult> {
    const updated = await this.db.query<NotificationRow>(
      'UPDATE notifications SET read_at = now() WHERE id = $1 AND user_id = $2 AND read_at IS NULL RETURNING *',
      [id, userId],
    );
    if (updated.rows[0]) return { ok: true, notification: toNotification(updated.rows[0]), changed: true };
    const { rows } = await this.db.query<NotificationRow>('SELECT * FROM notifications WHERE id = $1', [id]);
    const row = rows[0];
    if (!row) return { ok: false, reason: 'not_found' };
    if (row.user_id !== userId) return { ok: false, reason: 'not_yours' };
    return { ok: true, notification: toNotification(row), changed: false };
  }

  /** Marks every unread notification of the user read; returns how many changed. */
  async markAllRead(userId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number | string }>(
      `WITH changed AS (
         UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL RETURNING 1
       ) SELECT count(*) AS n FROM changed`,
      [userId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Deletes the user's own notification (broadcasts belong to no one and cannot be deleted). */
  async delete(userId: string, id: string): Promise<DeleteResult> {
    const deleted = await this.db.query('DELETE FROM notifications WHERE id = $1 AND user_id = $2 RETURNING id', [id, userId]);
    if (deleted.rows.length > 0) return { ok: true };
    const { rows } = await this.db.query('SELECT 1 FROM notifications WHERE id = $1', [id]);
    return { ok: false, reason: rows.length > 0 ? 'not_yours' : 'not_found' };
  }

  /** Stored notifications, read or not, broadcasts included (GET /realtime/stats). */
  async count(): Promise<number> {
    const { rows } = await this.db.query<{ n: number | string }>('SELECT count(*) AS n FROM notifications');
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Deletes read user notifications and channel broadcasts created more than `hours` ago (unread user notifications
   * stay until read). Returns how many rows went.
   */
  async purgeOlderThan(hours: number): Promise<number> {
    const { rows } = await this.db.query<{ n: number | string }>(
      `WITH gone AS (
         DELETE FROM notifications
         WHERE created_at < now() - make_interval(hours => $1::int)
           AND (read_at IS NOT NULL OR user_id IS NULL)
         RETURNING 1
       ) SELECT count(*) AS n FROM gone`,
      [hours],
    );
    return Number(rows[0]?.n ?? 0);
  }
}
