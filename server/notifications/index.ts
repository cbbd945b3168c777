/**
 * Notifications, one Fastify plugin: the REST routes (./routes.ts) and the live WebSocket and SSE routes
 * (./live-routes.ts). The service and the channel policy are built by the composition root (server/app.ts) and
 * passed in, so other features (the demo, presence's channel check, shutdown) use the same ones; so is the registry of
 * message types other features (chat) add to the socket.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../store/db.js';
import { NotificationStore } from '../store/notifications.js';
import type { StreamingContext } from '../streaming/context.js';
import type { ChannelPolicy } from './channel-policy.js';
import type { NotificationsContext } from './context.js';
import type { SocketMessages } from './socket-messages.js';
import { registerNotificationLiveRoutes } from './live-routes.js';
import { NotificationsService } from './notifications-service.js';
import { registerNotificationRoutes } from './routes.js';

export { ChannelPolicy, type ChannelPolicyDeps, type PresentationRoleLookup } from './channel-policy.js';
export { SocketMessages, type ExtensionMessage, type SocketMessageHandler, type SocketPeer } from './socket-messages.js';
export type { NotificationsContext } from './context.js';
export { NotificationsService } from './notifications-service.js';

export interface NotificationsPluginOptions {
  streaming: StreamingContext;
  notifications: NotificationsService;
  policy: ChannelPolicy;
  /** Message types other features add to the socket (registered before the app listens). */
  socketMessages: SocketMessages;
}

export function createNotificationsService(db: Db, streaming: StreamingContext): NotificationsService {
  const { bus, metrics, log, config } = streaming;
  return new NotificationsService(new NotificationStore(db), bus, metrics, log, config.notificationRetentionHours);
}

export async function notificationsPlugin(app: FastifyInstance, options: NotificationsPluginOptions): Promise<void> {
  const ctx: NotificationsContext = {
    ...options.streaming,
    notifications: options.notifications,
    policy: options.policy,
    socketMessages: options.socketMessages,
  };
  registerNotificationRoutes(app, ctx);
  registerNotificationLiveRoutes(app, ctx);
}
