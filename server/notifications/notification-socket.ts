/**
 * `WS /api/v1/realtime/notifications`: subscribed to `general` and `user_{id}` on connect; the user's unread
 * notifications (the most recent UNREAD_ON_CONNECT, oldest first) are delivered right after `connected`, and none of
 * them twice. client → server: `subscribe_channel`, `unsubscribe_channel` (channel-policy.ts decides; a subscription
 * whose access is lost, a member removed from the presentation, ends with PERMISSION_DENIED and `unsubscribed`),
 * `mark_read`, `mark_all_read`, `ping`, `auth`, and the types other features register (./socket-messages.ts). server →
 * client: `connected`, `notification`, `notification_read`, `notifications_read_all`, `notification_deleted`,
 * `subscribed`, `unsubscribed`, `reset` (`{channels, unread_count}`:
 * the bus lost events of those channels; the unread notifications follow), `pong`, `authenticated`, `error`, and the
 * events of the channels followed.
 */
import type { TSchema } from 'typebox';
import type { WebSocket } from 'ws';
import { busChannel, channelName, parseChannelName, type ChannelRef } from '../../shared/channels.js';
import { CLOSE_CODES } from '../../shared/errors.js';
import {
  AuthMessage,
  MarkAllReadMessage,
  MarkReadMessage,
  PingMessage,
  type NotificationResetMessage,
  SubscribeChannelMessage,
  UnsubscribeChannelMessage,
  type NotificationsClientMessage,
} from '../../shared/messages.js';
import type { Principal } from '../auth/jwt.js';
import type { BusEvent } from '../bus/types.js';
import { DomainError } from '../errors.js';
import { ChannelFollower, type ReleaseOptions } from '../streaming/follower.js';
import { RecentIds } from '../streaming/recent-ids.js';
import { openSessionSocket, SocketSession } from '../streaming/socket-session.js';
import type { Upgrade } from '../streaming/upgrade.js';
import type { NotificationsContext } from './context.js';
import { notificationIdOf, notificationMessage } from './notification-messages.js';
import type { ExtensionMessage, SocketPeer } from './socket-messages.js';

/** Channels one socket may follow at once (the two automatic ones included). */
export const MAX_CHANNELS_PER_SOCKET = 32;
/** Notification ids remembered per connection to never deliver one twice around a (re)sync. */
const DELIVERED_MEMORY = 1000;

/** The socket's own message types (features add theirs through ctx.socketMessages). */
const OWN_MESSAGES: Record<NotificationsClientMessage['type'], TSchema> = {
  ping: PingMessage,
  auth: AuthMessage,
  subscribe_channel: SubscribeChannelMessage,
  unsubscribe_channel: UnsubscribeChannelMessage,
  mark_read: MarkReadMessage,
  mark_all_read: MarkAllReadMessage,
};
const isOwn = (message: { type: string }): message is NotificationsClientMessage => Object.hasOwn(OWN_MESSAGES, message.type);

type SocketMessage = NotificationsClientMessage | ExtensionMessage;

export function openNotificationSocket(socket: WebSocket, upgrade: Upgrade, ctx: NotificationsContext): void {
  openSessionSocket(socket, upgrade, ctx, 'notifications', ctx.socketMessages.parser(OWN_MESSAGES), (conn, principal, meter) => {
    return new NotificationSession(conn, principal, ctx, meter, ctx.log);
  });
}

class NotificationSession extends SocketSession<SocketMessage, NotificationsContext> {
  private readonly delivered = new RecentIds(DELIVERED_MEMORY);
  /** This connection as the handlers of other features' message types see it. */
  private readonly peer: SocketPeer = ((session: NotificationSession): SocketPeer => ({
    get principal(): Principal {
      return session.principal;
    },
    onClose: (callback) => session.conn.onClose(callback),
  }))(this);

  async start(): Promise<void> {
    const automatic: ChannelRef[] = [{ kind: 'general' }, { kind: 'user', userId: this.principal.userId }];
    try {
      const followers = automatic.map((ref) => this.follower(ref));
      await Promise.all(followers.map((f) => f.start()));
      if (this.disposed) return;
      this.conn.send({
        type: 'connected',
        user_id: this.principal.userId,
        channels: automatic.map(channelName),
        token_expires_at: new Date(this.principal.expiresAt).toISOString(),
        timestamp: new Date().toISOString(),
      });
      await this.sendUnread();
      for (const follower of followers) follower.release({ skipHeld: (event) => this.wasDelivered(event) });
    } catch (err) {
      this.sendFailure(err);
      this.conn.close(CLOSE_CODES.TRY_AGAIN_LATER.code, CLOSE_CODES.TRY_AGAIN_LATER.reason);
      return;
    }
    this.conn.handle(this);
  }

  /** A message of the connection (called by the JsonSocket). */
  async onMessage(message: SocketMessage): Promise<void> {
    if (this.handleCommon(message)) return;
    try {
      if (!isOwn(message)) return await this.ctx.socketMessages.handle(this.peer, message);
      switch (message.type) {
        case 'subscribe_channel':
          return await this.subscribe(message.channel);
        case 'unsubscribe_channel':
          return this.unsubscribe(message.channel);
        case 'mark_read': {
          const { changed } = await this.ctx.notifications.markRead(this.principal, message.id);
          // A change is announced on the user's channel (to every tab); an already read one is confirmed here.
          if (!changed) this.conn.send({ type: 'notification_read', id: message.id, timestamp: new Date().toISOString() });
          return;
        }
        case 'mark_all_read': {
          const updated = await this.ctx.notifications.markAllRead(this.principal);
          // Changes are announced on the user's channel (to every tab); nothing to change is confirmed here.
          if (updated === 0) this.conn.send({ type: 'notifications_read_all', updated: 0, timestamp: new Date().toISOString() });
          return;
        }
      }
    } catch (err) {
      this.sendFailure(err);
    }
  }

  private async subscribe(name: string): Promise<void> {
    const ref = parseChannelName(name);
    if (!ref) throw new DomainError('INVALID_MESSAGE', `not a channel name: ${JSON.stringify(name.slice(0, 80))}`);
    const normalized = channelName(ref);
    if (!this.follows.has(normalized)) {
      const decision = await this.ctx.policy.authorize(this.principal, ref);
      // The refusal names the channel (`details.channel`), so a client subscribing to several knows which.
      if (!decision.ok) throw new DomainError(decision.code, decision.message, { channel: normalized });
      if (this.follows.size >= MAX_CHANNELS_PER_SOCKET) {
        throw new DomainError('RATE_LIMIT_EXCEEDED', `at most ${MAX_CHANNELS_PER_SOCKET} channels per connection`, { channel: normalized });
      }
      const follower = this.follower(ref);
      try {
        await follower.start();
        follower.onStop(await this.ctx.policy.watch(this.principal, ref, () => this.revoke(normalized, follower)));
      } catch (err) {
        this.follows.delete(normalized);
        follower.stop();
        throw err;
      }
      follower.release();
    }
    this.conn.send({ type: 'subscribed', channel: normalized, timestamp: new Date().toISOString() });
  }

  private unsubscribe(name: string): void {
    const ref = parseChannelName(name);
    if (!ref) throw new DomainError('INVALID_MESSAGE', `not a channel name: ${JSON.stringify(name.slice(0, 80))}`);
    const normalized = channelName(ref);
    this.follows.get(normalized)?.stop();
    this.follows.delete(normalized);
    this.conn.send({ type: 'unsubscribed', channel: normalized, timestamp: new Date().toISOString() });
  }

  /** Access to a followed channel was lost (removed from the presentation): the subscription ends. */
  private revoke(channel: string, follower: ChannelFollower): void {
    if (this.follows.get(channel) !== follower) return;
    this.follows.delete(channel);
    follower.stop();
    this.conn.sendError('PERMISSION_DENIED', `${channel}: you may no longer follow this channel`, { channel });
    this.conn.send({ type: 'unsubscribed', channel, timestamp: new Date().toISOString() });
  }

  private follower(ref: ChannelRef): ChannelFollower {
    const follower = new ChannelFollower(
      this.ctx.bus,
      busChannel(ref),
      (event) => {
        // A notification may come twice (sent as unread, then published late): deliver it once.
        const id = notificationIdOf(event.json());
        if (id !== undefined) {
          if (this.delivered.has(id)) return;
          this.delivered.add(id);
        }
        this.deliver(event);
      },
      () => this.resync(ref),
    );
    this.follows.set(channelName(ref), follower);
    return follower;
  }

  /**
   * The bus lost events of a channel (Redis restart): a `reset` for it (what was missed is not replayed), then, for
   * the user's own channel, the unread notifications not delivered yet, before the live events that arrived meanwhile.
   */
  private async resync(ref: ChannelRef): Promise<ReleaseOptions> {
    const skipHeld = (event: BusEvent) => this.wasDelivered(event);
    try {
      const unreadCount = await this.ctx.notifications.unreadCount(this.principal.userId);
      if (this.disposed) return {};
      const reset: NotificationResetMessage = {
        type: 'reset',
        channels: [channelName(ref)],
        unread_count: unreadCount,
        timestamp: new Date().toISOString(),
      };
      this.conn.send(reset);
      if (ref.kind === 'user') await this.sendUnread();
    } catch (err) {
      this.log.warn({ err, channel: channelName(ref) }, 'notification resync failed');
    }
    return { skipHeld };
  }

  /** Sends the unread notifications not delivered on this connection yet. */
  private async sendUnread(): Promise<void> {
    const unread = await this.ctx.notifications.unreadForDelivery(this.principal.userId);
    if (this.disposed) return;
    for (const n of unread) {
      if (this.delivered.has(n.id)) continue;
      this.delivered.add(n.id);
      await this.conn.sendPaced(notificationMessage(n));
    }
  }

  private wasDelivered(event: BusEvent): boolean {
    const id = notificationIdOf(event.json());
    return id !== undefined && this.delivered.has(id);
  }
}
