/** What the notification endpoints share: the streaming transport, the notifications service and the channel policy. */
import type { StreamingContext } from '../streaming/context.js';
import type { ChannelPolicy } from './channel-policy.js';
import type { NotificationsService } from './notifications-service.js';

export interface NotificationsContext extends StreamingContext {
  notifications: NotificationsService;
  policy: ChannelPolicy;
}
