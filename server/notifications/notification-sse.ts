/**
 * `GET /api/v1/realtime/sse/notifications[?channels=team-42,ops]`: the notifications socket's events as SSE, for
 * `general`, `user_{id}` and the custom channels asked for (channel-policy.ts decides).
 * Every event's `id` is a cursor holding the position of every channel (server/streaming/sse-cursor.ts), so:
 * - no Last-Event-ID: the unread notifications first (as on the socket), then live;
 * - a Last-Event-ID whose every channel is still covered by history: exactly what was missed on each, then live;
 * - otherwise: a `reset` event (`unread_count`), the unread notifications, then live.
 * While streaming, a channel whose events the bus lost (Redis restart) gets a `reset` event for that channel (then the
 * unread notifications, for the user's channel): never a silent gap. No notification is delivered twice. A channel
 * whose access is lost (a member removed from the presentation) ends with a PERMISSION_DENIED `error` event; the
 * stream goes on with the others.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { busChannel, channelName, parseChannelName, type ChannelRef } from '../../shared/channels.js';
import { errorMessage } from '../../shared/errors.js';
import type { NotificationResetMessage } from '../../shared/messages.js';
import type { Principal } from '../auth/jwt.js';
import type { BusEvent, HistoryResult } from '../bus/types.js';
import { principalOf } from '../http/auth.js';
import { DomainError } from '../errors.js';
import { ChannelFollower, type ReleaseOptions } from '../streaming/follower.js';
import { sseFrame, sseFrameBody, sseIdLine } from '../streaming/frames.js';
import { RecentIds } from '../streaming/recent-ids.js';
import { decodeCursor, encodeCursor } from '../streaming/sse-cursor.js';
import { openSseSession, SseSession, type SseOpening } from '../streaming/sse-session.js';
import type { NotificationsContext } from './context.js';
import { notificationIdOf, notificationMessage } from './notification-messages.js';
import { MAX_CHANNELS_PER_SOCKET } from './notification-socket.js';

/** Notification ids remembered per stream to never deliver one twice. */
const DELIVERED_MEMORY = 1000;

/** `general`, the user's channel, and the authorized custom channels of `?channels=`. */
async function channelsFor(ctx: NotificationsContext, principal: Principal, requested: string | undefined): Promise<ChannelRef[]> {
  const refs = new Map<string, ChannelRef>();
  for (const ref of [{ kind: 'general' }, { kind: 'user', userId: principal.userId }] as ChannelRef[]) refs.set(channelName(ref), ref);
  for (const name of (requested ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean)) {
    const ref = parseChannelName(name);
    if (!ref) throw new DomainError('INVALID_MESSAGE', `not a channel name: ${JSON.stringify(name.slice(0, 80))}`);
    if (refs.has(channelName(ref))) continue;
    const decision = await ctx.policy.authorize(principal, ref);
    if (!decision.ok) throw new DomainError(decision.code, `${channelName(ref)}: ${decision.message}`);
    refs.set(channelName(ref), ref);
  }
  if (refs.size > MAX_CHANNELS_PER_SOCKET) throw new DomainError('INVALID_MESSAGE', `at most ${MAX_CHANNELS_PER_SOCKET} channels per stream`);
  return [...refs.values()];
}

export async function streamNotifications(
  request: FastifyRequest<{ Querystring: { channels?: string } }>,
  reply: FastifyReply,
  ctx: NotificationsContext,
): Promise<void> {
  const principal = principalOf(request);
  const refs = await channelsFor(ctx, principal, request.query.channels);
  await openSseSession(request, reply, ctx, 'notifications', principal, (opening) => new NotificationSseSession(ctx, opening, refs));
}

class NotificationSseSession extends SseSession<NotificationsContext> {
  /** The position (bus event id) of every channel: the cursor sent as each event's `id`. */
  private readonly positions = new Map<string, string>();
  private readonly delivered = new RecentIds(DELIVERED_MEMORY);
  private readonly followers: ChannelFollower[];

  constructor(
    ctx: NotificationsContext,
    opening: SseOpening,
    private readonly refs: ChannelRef[],
  ) {
    super(ctx, opening);
    this.followers = refs.map((ref) =>
      this.follow(
        new ChannelFollower(
          ctx.bus,
          busChannel(ref),
          (event) => {
            this.observe(event);
            this.write(event);
          },
          () => this.resync(ref),
        ),
      ),
    );
  }

  protected async start(): Promise<void> {
    const { ctx, refs, followers, positions, lastEventId } = this;
    await Promise.all(followers.map((f) => f.start()));
    await this.watchAccess();
    const cursor = lastEventId === undefined ? null : decodeCursor(lastEventId);
    if (lastEventId === undefined || !cursor) {
      const heads = await Promise.all(refs.map((ref) => ctx.bus.head(busChannel(ref))));
      return await this.fromCurrentState(heads, lastEventId !== undefined);
    }
    // A channel the cursor does not know (newly asked for) starts at its head; the others resume.
    const histories: HistoryResult[] = await Promise.all(
      refs.map(async (ref) => {
        const position = cursor.get(busChannel(ref));
        if (position !== undefined) return ctx.bus.history(busChannel(ref), position);
        const head = await ctx.bus.head(busChannel(ref));
        return { complete: true, events: [], head };
      }),
    );
    if (!histories.every((h) => h.complete))
      return await this.fromCurrentState(
        histories.map((h) => h.head),
        true,
      );
    refs.forEach((ref, i) => positions.set(busChannel(ref), cursor.get(busChannel(ref)) ?? histories[i]!.head));
    for (const [i, follower] of followers.entries()) {
      for (const event of histories[i]!.events) {
        this.write(event);
        await this.stream.drained();
      }
      follower.release({ afterId: positions.get(busChannel(refs[i]!)) });
    }
  }

  /** Losing access to a channel (a member removed from the presentation) ends that channel, not the stream. */
  private async watchAccess(): Promise<void> {
    for (const [i, ref] of this.refs.entries()) {
      const follower = this.followers[i]!;
      const revoked = () => {
        follower.stop();
        const channel = channelName(ref);
        this.stream.write(sseFrame(undefined, errorMessage('PERMISSION_DENIED', `${channel}: you may no longer follow this channel`, { channel })));
      };
      follower.onStop(await this.ctx.policy.watch(this.principal, ref, revoked));
    }
  }

  private readonly wasDelivered = (event: BusEvent): boolean => {
    const id = notificationIdOf(event.json());
    return id !== undefined && this.delivered.has(id);
  };

  private write(event: BusEvent): void {
    this.positions.set(event.channel, event.id);
    // A notification may come twice (sent as unread, then published late): deliver it once, keep the position.
    const id = notificationIdOf(event.json());
    if (id !== undefined) {
      if (this.delivered.has(id)) return;
      this.delivered.add(id);
    }
    this.stream.write(sseFrameBody(event), sseIdLine(encodeCursor(this.positions)));
  }

  /**
   * The bus lost events of a channel (Redis restart): a `reset` for it with the channel's new position in the cursor,
   * then, for the user's channel, the unread notifications not delivered yet; live events wait for both.
   */
  private async resync(ref: ChannelRef): Promise<ReleaseOptions> {
    try {
      const channel = busChannel(ref);
      const head = await this.ctx.bus.head(channel);
      this.positions.set(channel, head);
      const message: NotificationResetMessage = {
        type: 'reset',
        channels: [channelName(ref)],
        unread_count: await this.ctx.notifications.unreadCount(this.principal.userId),
        timestamp: new Date().toISOString(),
      };
      this.stream.write(sseFrame(encodeCursor(this.positions), message));
      if (ref.kind === 'user') await this.sendUnread();
      return { afterId: head, skipHeld: this.wasDelivered };
    } catch (err) {
      this.log.warn({ err, channel: channelName(ref) }, 'notification stream resync failed');
      return { skipHeld: this.wasDelivered };
    }
  }

  private async sendUnread(): Promise<void> {
    for (const n of await this.ctx.notifications.unreadForDelivery(this.principal.userId)) {
      if (this.delivered.has(n.id)) continue;
      this.delivered.add(n.id);
      this.stream.write(sseFrame(encodeCursor(this.positions), notificationMessage(n)));
      await this.stream.drained();
    }
  }

  /** Starts from the current state: every channel at its head, the unread notifications, then live. */
  private async fromCurrentState(heads: string[], reset: boolean): Promise<void> {
    this.refs.forEach((ref, i) => this.positions.set(busChannel(ref), heads[i]!));
    if (reset) {
      const message: NotificationResetMessage = {
        type: 'reset',
        channels: this.refs.map(channelName),
        unread_count: await this.ctx.notifications.unreadCount(this.principal.userId),
        timestamp: new Date().toISOString(),
      };
      this.stream.write(sseFrame(encodeCursor(this.positions), message));
    }
    await this.sendUnread();
    this.followers.forEach((follower, i) => follower.release({ afterId: heads[i], skipHeld: this.wasDelivered }));
  }
}
