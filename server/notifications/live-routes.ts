/**
 * Live notifications: `WS /api/v1/realtime/notifications` (./notification-socket.ts) and
 * `GET /api/v1/realtime/sse/notifications` (./notification-sse.ts). Tokens come as `?token=` (browsers) or
 * `Authorization: Bearer`.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ErrorResponseSchema } from '../http/errors.js';
import { notAnUpgrade, SSE_RESPONSES, SseQuery, sseGuards, TokenQuery } from '../streaming/route-schemas.js';
import type { NotificationsContext } from './context.js';
import { openNotificationSocket } from './notification-socket.js';
import { streamNotifications } from './notification-sse.js';

const NotificationsSseQuery = Type.Object({
  ...SseQuery.properties,
  channels: Type.Optional(Type.String({ description: 'more channels, comma-separated: custom topics, presence.{id}, chat.{id}, status.{user_id}' })),
});

export function registerNotificationLiveRoutes(app: FastifyInstance, ctx: NotificationsContext): void {
  app.route({
    method: 'GET',
    url: '/api/v1/realtime/notifications',
    schema: {
      tags: ['realtime'],
      summary: 'WebSocket: notifications (general and user_{id}; subscribe_channel, unsubscribe_channel, mark_read, ping; chat_typing, chat_read)',
      querystring: TokenQuery,
      response: { 400: ErrorResponseSchema },
    },
    // The upgrade itself is taken before the router (../streaming/upgrade.ts): a plain GET gets here.
    handler: notAnUpgrade,
  });
  ctx.upgrades.add(app, { url: '/api/v1/realtime/notifications', open: (socket, upgrade) => openNotificationSocket(socket, upgrade, ctx) });

  app.get<{ Querystring: Static<typeof NotificationsSseQuery> }>(
    '/api/v1/realtime/sse/notifications',
    {
      exposeHeadRoute: false,
      onRequest: sseGuards(ctx),
      schema: {
        tags: ['realtime'],
        summary: 'SSE: notifications (general, user_{id}, ?channels=); Last-Event-ID resumes every channel',
        querystring: NotificationsSseQuery,
        response: SSE_RESPONSES,
      },
    },
    (request, reply) => streamNotifications(request, reply, ctx),
  );
}
