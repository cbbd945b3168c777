/**
 * Validation of what the chat endpoints send (shared/chat.ts): messages from REST answers and live events from the
 * channel stream. Nothing from the wire reaches application code without passing these checks.
 */
import type { ChatMessage, ChatReadMark, ChatReadEvent, ChatTypingEvent } from '../../shared/chat.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringOrNull = (value: unknown): value is string | null => value === null || typeof value === 'string';

export function isChatMessage(value: unknown): value is ChatMessage {
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    typeof value.presentation_id === 'string' &&
    typeof value.user_id === 'string' &&
    typeof value.user_name === 'string' &&
    typeof value.text === 'string' &&
    isStringOrNull(value.reply_to) &&
    typeof value.created_at === 'string' &&
    isStringOrNull(value.edited_at) &&
    typeof value.deleted === 'boolean'
  );
}

export function isReadMark(value: unknown): value is ChatReadMark {
  return isObject(value) && typeof value.user_id === 'string' && typeof value.message_id === 'string' && typeof value.read_at === 'string';
}

/** The message of a `chat_message`, `chat_message_updated` or `chat_message_deleted` event (without `type`, `timestamp`). */
export function messageOf(event: Json): ChatMessage | null {
  const { type: _type, timestamp: _timestamp, ...message } = event;
  return isChatMessage(message) ? message : null;
}

export function isTypingEvent(value: Json): value is Json & ChatTypingEvent {
  return (
    value.type === 'chat_typing' && typeof value.user_id === 'string' && typeof value.user_name === 'string' && typeof value.typing === 'boolean'
  );
}

export function isReadEvent(value: Json): value is Json & ChatReadEvent {
  return value.type === 'chat_read' && isReadMark(value);
}
