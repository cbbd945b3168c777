/**
 * The chat's messages on the notifications socket (client → server): `chat_typing {presentation_id, typing}` and
 * `chat_read {presentation_id, message_id}`. A typing indicator is held by the connection it came from: closing the
 * connection stops it. Answers are the events on `chat.{id}` (a subscriber sees its own); refusals are `error`s.
 */
import type { Static } from 'typebox';
import type { SocketMessages, SocketPeer } from '../notifications/index.js';
import type { ChatService } from './chat-service.js';
import { ChatReadClientMessage, ChatTypingClientMessage } from './schemas.js';

export function registerChatSocketMessages(messages: SocketMessages, chat: ChatService): void {
  /** Connections whose close already ends their typing. */
  const hooked = new WeakSet<SocketPeer>();
  messages.register('chat_typing', {
    schema: ChatTypingClientMessage,
    handle: async (peer, message) => {
      const { presentation_id: presentationId, typing } = message as Static<typeof ChatTypingClientMessage>;
      if (typing && !hooked.has(peer)) {
        hooked.add(peer);
        peer.onClose(() => chat.connectionClosed(peer));
      }
      await chat.setTyping(peer.principal, presentationId, typing, peer);
    },
  });
  messages.register('chat_read', {
    schema: ChatReadClientMessage,
    handle: async (peer, message) => {
      const { presentation_id: presentationId, message_id: messageId } = message as Static<typeof ChatReadClientMessage>;
      await chat.markRead(peer.principal, presentationId, messageId);
    },
  });
}
