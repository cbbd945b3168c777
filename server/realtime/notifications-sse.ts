/**
 * `GET /api/v1/realtime/sse/notifications[?channels=team-42,ops]`: the notifications socket's events as SSE, for
 * `general`, `user_{id}` and the custom channels asked for (channel-policy.ts decides).
 * Every event's `id` is a cursor holding the position of every channel (sse-cursor.ts), so:
 * - no Last-Event-ID: the unread notifications first (as on the socket), then live;
 * - a Last-Event-ID whose every channel is still covered by history: exactly what was missed on each, then live;
 * - otherwise: a `reset` event (`unread_count`), the unread notifications, then live.
 * While streaming, a channel whose events the bus lost (Redis restart) gets a `reset` event for that channel (then the
 * unread notifications, for the user's channel): never a silent gap. No notification is delivered twice.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { busChannel, channelName, parseChannelName, type ChannelRef } from '../../shared/channels.js';
import { errorMessage } from '../../shared/errors.js';
import type { NotificationResetMessage } from '../../shared/messages.js';
import type { Principal } from '../auth/jwt.js';
import type { BusEvent, HistoryResult } from '../bus/types.js';
import { principalOf } from '../http/auth.js';
import { AppError } from '../http/errors.js';
import { acquireSseSlot } from './admission.js';
import type { RealtimeContext } from './context.js';
import { ChannelFollower, type ReleaseOptions } from './follower.js';
import { sseFrame, sseFrameBody, sseIdLine } from './frames.js';
import { notificationIdOf, notificationMessage } from './notifications.js';
import { MAX_CHANNELS_PER_SOCKET } from './notifications-socket.js';
import { RecentIds } from './recent-ids.js';
import { observeDelivery } from './socket-session.js';
import { SseStream } from './sse.js';
import { decodeCursor, encodeCursor } from './sse-cursor.js';
import { lastEventIdOf } from './sse-request.js';
import { TokenLease } from './token-lease.js';

/** Notification ids remembered per stream to never deliver one twice. */
const DELIVERED_MEMORY = 1000;

/** `general`, the user's channel, and the authorized custom channels of `?channels=`. */
async function channelsFor(ctx: RealtimeContext, principal: Principal, requested: string | undefined): Promise<ChannelRef[]> {
  const refs = new Map<string, ChannelRef>();
  for (const ref of [{ kind: 'general' }, { kind: 'user', userId: principal.userId }] as ChannelRef[]) refs.set(channelName(ref), ref);
  for (const name of (requested ?? '').split(',').map((n) => n.trim()).filter(Boolean)) {
    const ref = parseChannelName(name);
    if (!ref) throw new AppError('INVALID_MESSAGE', `not a channel name: ${JSON.stringify(name.slice(0, 80))}`);
    if (refs.has(channelName(ref))) continue;
    const decision = await ctx.policy.authorize(principal, ref);
    if (!decision.ok) throw new AppError(decision.code, `${channelName(ref)}: ${decision.message}`);
    refs.set(channelName(ref), ref);
  }
  if (refs.size > MAX_CHANNELS_PER_SOCKET) throw new AppError('INVALID_MESSAGE', `at most ${MAX_CHANNELS_PER_SOCKET} channels per stream`);
  return [...refs.values()];
}

export async function streamNotifications(
  request: FastifyRequest<{ Querystring: { channels?: string } }>,
  reply: FastifyReply,
  ctx: RealtimeContext,
): Promise<void> {
  const principal = principalOf(request);
  const refs = await channelsFor(ctx, principal, request.query.channels);
  const release = await acquireSseSlot(ctx, 'notifications-sse', principal);
  const lastEventId = lastEventIdOf(request);

  const meter = ctx.metrics.connection('notifications', 'sse');
  const stream = new SseStream(reply, ctx.config.limits.outboundBufferBytes, meter, request.log);
  ctx.sse.add(stream);
  const positions = new Map<string, string>();
  const delivered = new RecentIds(DELIVERED_MEMORY);
  const wasDelivered = (event: BusEvent) => {
    const id = notificationIdOf(event.json());
    return id !== undefined && delivered.has(id);
  };

  const write = (event: BusEvent) => {
    positions.set(event.channel, event.id);
    // A notification may come twice (sent as unread, then published late): deliver it once, keep the position.
    const id = notificationIdOf(event.json());
    if (id !== undefined) {
      if (delivered.has(id)) return;
      delivered.add(id);
    }
    stream.write(sseFrameBody(event), sseIdLine(encodeCursor(positions)));
  };
  const followers = refs.map(
    (ref) =>
      new ChannelFollower(
        ctx.bus,
        busChannel(ref),
        (event) => {
          observeDelivery(ctx.metrics, event);
          write(event);
        },
        () => resync(ref),
      ),
  );
  const lease = new TokenLease(principal, () => {
    meter.disconnected('token_expired');
    meter.error('AUTHENTICATION_FAILED');
    stream.write(sseFrame(undefined, errorMessage('AUTHENTICATION_FAILED', 'token expired: reconnect with a fresh token')));
    stream.end();
  });
  stream.onClose(() => {
    for (const follower of followers) follower.stop();
    lease.dispose();
    release();
  });

  /**
   * The bus lost events of a channel (Redis restart): a `reset` for it with the channel's new position in the cursor,
   * then, for the user's channel, the unread notifications not delivered yet; live events wait for both.
   */
  async function resync(ref: ChannelRef): Promise<ReleaseOptions> {
    try {
      const channel = busChannel(ref);
      const head = await ctx.bus.head(channel);
      positions.set(channel, head);
      const message: NotificationResetMessage = {
        type: 'reset',
        channels: [channelName(ref)],
        unread_count: await ctx.notifications.unreadCount(principal.userId),
        timestamp: new Date().toISOString(),
      };
      stream.write(sseFrame(encodeCursor(positions), message));
      if (ref.kind === 'user') await sendUnread();
      return { afterId: head, skipHeld: wasDelivered };
    } catch (err) {
      request.log.warn({ err, channel: channelName(ref) }, 'notification stream resync failed');
      return { skipHeld: wasDelivered };
    }
  }

  async function sendUnread(): Promise<void> {
    for (const n of await ctx.notifications.unreadForDelivery(principal.userId)) {
      if (delivered.has(n.id)) continue;
      delivered.add(n.id);
      stream.write(sseFrame(encodeCursor(positions), notificationMessage(n)));
      await stream.drained();
    }
  }

  /** Starts from the current state: every channel at its head, the unread notifications, then live. */
  async function fromCurrentState(heads: string[], reset: boolean): Promise<void> {
    refs.forEach((ref, i) => positions.set(busChannel(ref), heads[i]!));
    if (reset) {
      const message: NotificationResetMessage = {
        type: 'reset',
        channels: refs.map(channelName),
        unread_count: await ctx.notifications.unreadCount(principal.userId),
        timestamp: new Date().toISOString(),
      };
      stream.write(sseFrame(encodeCursor(positions), message));
    }
    await sendUnread();
    followers.forEach((follower, i) => follower.release({ afterId: heads[i], skipHeld: wasDelivered }));
  }

  try {
    await Promise.all(followers.map((f) => f.start()));
    // Losing access to a channel (a member removed from the presentation) ends that channel, not the stream.
    for (const [i, ref] of refs.entries()) {
      const follower = followers[i]!;
      follower.onStop(
        await ctx.policy.watch(principal, ref, () => {
          follower.stop();
          stream.write(sseFrame(undefined, errorMessage('PERMISSION_DENIED', `${channelName(ref)}: you may no longer follow this channel`)));
        }),
      );
    }
    const cursor = lastEventId === undefined ? null : decodeCursor(lastEventId);
    if (lastEventId === undefined || !cursor) {
      const heads = await Promise.all(refs.map((ref) => ctx.bus.head(busChannel(ref))));
      return await fromCurrentState(heads, lastEventId !== undefined);
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
    if (!histories.every((h) => h.complete)) return await fromCurrentState(histories.map((h) => h.head), true);
    refs.forEach((ref, i) => positions.set(busChannel(ref), cursor.get(busChannel(ref)) ?? histories[i]!.head));
    for (const [i, follower] of followers.entries()) {
      for (const event of histories[i]!.events) {
        write(event);
        await stream.drained();
      }
      follower.release({ afterId: positions.get(busChannel(refs[i]!)) });
    }
  } catch (err) {
    request.log.error({ err }, 'notification stream failed');
    meter.error('INTERNAL_ERROR');
    stream.write(sseFrame(undefined, errorMessage('INTERNAL_ERROR', 'stream failed, reconnect')));
    stream.end();
  }
}
