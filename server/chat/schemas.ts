/**
 * The chat API's schemas (TypeBox): route validation and OpenAPI for the REST routes, and validation of the chat
 * messages a client sends on the notifications socket. The wire types are in shared/chat.ts.
 */
import { Type } from 'typebox';
import { CHAT_HISTORY_DEFAULT_LIMIT, CHAT_HISTORY_MAX_LIMIT, CHAT_MAX_TEXT_LENGTH } from '../../shared/chat.js';
import { PRESENTATION_ID_PATTERN } from '../../shared/presentation.js';

/** Message ids are UUIDs, as the server writes them (lowercase). */
export const MESSAGE_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

const PresentationId = Type.String({ pattern: PRESENTATION_ID_PATTERN });
const MessageId = Type.String({ pattern: MESSAGE_ID_PATTERN, description: 'a chat message id' });
const Text = Type.String({ minLength: 1, maxLength: CHAT_MAX_TEXT_LENGTH, description: `1 to ${CHAT_MAX_TEXT_LENGTH} characters, not only spaces` });
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const PresentationParams = Type.Object({ id: PresentationId });
export const MessageParams = Type.Object({ message_id: MessageId });

export const PostMessageBody = Type.Object({ text: Text, reply_to: Type.Optional(Nullable(MessageId)) }, { additionalProperties: false });
export const EditMessageBody = Type.Object({ text: Text }, { additionalProperties: false });
export const HistoryQuery = Type.Object({
  before: Type.Optional(
    Type.String({ pattern: MESSAGE_ID_PATTERN, description: 'the id of the oldest message already shown: older ones come next' }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: CHAT_HISTORY_MAX_LIMIT, default: CHAT_HISTORY_DEFAULT_LIMIT })),
});
export const ReadBody = Type.Object({ message_id: MessageId }, { additionalProperties: false });
export const TypingBody = Type.Object({ typing: Type.Boolean() }, { additionalProperties: false });

export const ChatMessageSchema = Type.Object({
  id: Type.String(),
  presentation_id: Type.String(),
  user_id: Type.String(),
  user_name: Type.String(),
  text: Type.String(),
  reply_to: Nullable(Type.String()),
  created_at: Type.String(),
  edited_at: Nullable(Type.String()),
  deleted: Type.Boolean(),
});
export const HistoryResponse = Type.Object({ messages: Type.Array(ChatMessageSchema) });
export const UnreadResponse = Type.Object({ unread: Type.Integer() });
export const ReadMarkSchema = Type.Object({ user_id: Type.String(), message_id: Type.String(), read_at: Type.String() });
export const ReadsResponse = Type.Object({ reads: Type.Array(ReadMarkSchema) });

// Client → server on the notifications socket (unknown extra properties are ignored, as for its own messages).
export const ChatTypingClientMessage = Type.Object({ type: Type.Literal('chat_typing'), presentation_id: PresentationId, typing: Type.Boolean() });
export const ChatReadClientMessage = Type.Object({ type: Type.Literal('chat_read'), presentation_id: PresentationId, message_id: MessageId });
