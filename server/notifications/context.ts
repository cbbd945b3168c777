/**
 * What the notification endpoints share: the streaming transport, the notifications service, the channel policy and
 * the message types other features add to the socket.
 */
import type { StreamingContext } from '../streaming/context.js';
import type { ChannelPolicy } from './channel-policy.js';
import type { NotificationsService } from './notifications-service.js';
import type { SocketMessages } from './socket-messages.js';

export interface NotificationsContext extends StreamingContext {
  notifications: NotificationsService;
  policy: ChannelPolicy;
  socketMessages: SocketMessages;
}
