/**
 * Notifications over REST: services send them (`notifications:write` or `admin`) to a user, to several users, or to
 * a channel; users list, read (one or all) and delete their own. Live delivery: /realtime/notifications (WS) and
 * /realtime/sse/notifications (SSE), see ./live-routes.ts.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ReadAllResponse } from '../../shared/dashboard-api.js';
import { CreateNotificationBody, NotificationIdSchema, NotificationSchema } from '../../shared/messages.js';
import { principalOf, requireScope, requireUser } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import type { NotificationsContext } from './context.js';
import { notificationData } from './notification-messages.js';

const IdParams = Type.Object({ id: NotificationIdSchema });
const ListQuery = Type.Object({
  unread: Type.Optional(Type.Boolean({ default: false, description: 'only unread notifications' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
});
const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema, 429: ErrorResponseSchema };

export function registerNotificationRoutes(app: FastifyInstance, ctx: NotificationsContext): void {
  const user = requireUser(ctx.verifier);

  app.post<{ Body: Static<typeof CreateNotificationBody> }>(
    '/api/v1/notifications',
    {
      onRequest: requireScope(ctx.verifier, 'notifications:write'),
      schema: {
        tags: ['notifications'],
        summary: 'Send a notification to user_id, user_ids or a channel (service token: notifications:write); stored, then delivered',
        body: CreateNotificationBody,
        response: { 201: Type.Object({ notifications: Type.Array(NotificationSchema) }), ...errors },
      },
    },
    async (request, reply) => {
      const stored = await ctx.notifications.send(request.body);
      return reply.status(201).send({ notifications: stored.map(notificationData) });
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/notifications',
    {
      onRequest: user,
      schema: {
        tags: ['notifications'],
        summary: 'The caller’s notifications, newest first',
        querystring: ListQuery,
        response: { 200: Type.Object({ notifications: Type.Array(NotificationSchema), unread_count: Type.Integer() }), ...errors },
      },
    },
    async (request) => {
      const { userId } = principalOf(request);
      const [notifications, unreadCount] = await Promise.all([
        ctx.notifications.list(userId, { unreadOnly: request.query.unread ?? false, limit: request.query.limit ?? 50 }),
        ctx.notifications.unreadCount(userId),
      ]);
      return { notifications: notifications.map(notificationData), unread_count: unreadCount };
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/api/v1/notifications/:id/read',
    {
      onRequest: user,
      schema: {
        tags: ['notifications'],
        summary: 'Mark one of the caller’s notifications read (idempotent)',
        params: IdParams,
        response: { 200: Type.Object({ notification: NotificationSchema }), ...errors },
      },
    },
    async (request) => {
      const { notification } = await ctx.notifications.markRead(principalOf(request), request.params.id);
      return { notification: notificationData(notification) };
    },
  );

  app.post(
    '/api/v1/notifications/read-all',
    {
      onRequest: user,
      schema: {
        tags: ['notifications'],
        summary: 'Mark every unread notification of the caller read; its connections hear `notifications_read_all`',
        response: { 200: ReadAllResponse, ...errors },
      },
    },
    async (request) => ({ updated: await ctx.notifications.markAllRead(principalOf(request)) }),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/api/v1/notifications/:id',
    {
      onRequest: user,
      schema: {
        tags: ['notifications'],
        summary: 'Delete one of the caller’s notifications; its connections hear `notification_deleted`',
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await ctx.notifications.remove(principalOf(request), request.params.id);
      return reply.status(204).send();
    },
  );
}
