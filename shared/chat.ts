/**
 * Chat per presentation: the message shape of the REST API and the live events on the channel
 * `chat.{presentation_id}` (notifications WebSocket `subscribe_channel`, SSE `?channels=`). Members read; commenters
 * and up write (server/access/policy.ts). No server-only imports here: the client SDK imports this file.
 */

/** The longest message text, in characters (UTF-16 code units, as JavaScript counts them). */
export const CHAT_MAX_TEXT_LENGTH = 4000;
/** The most messages one history page returns. */
export const CHAT_HISTORY_MAX_LIMIT = 100;
export const CHAT_HISTORY_DEFAULT_LIMIT = 50;

export interface ChatMessage {
  id: string;
  presentation_id: string;
  user_id: string;
  user_name: string;
  /** Empty once deleted (the tombstone keeps the id, author and times). */
  text: string;
  /** The message this one answers (null when none, or when that message was pruned). */
  reply_to: string | null;
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
}

/** A message posted, edited or deleted (the message as it now is, flat, with `type` and `timestamp`). */
export interface ChatMessageEvent extends ChatMessage {
  type: 'chat_message' | 'chat_message_updated' | 'chat_message_deleted';
  timestamp: string;
}

/** Someone started (`typing: true`) or stopped typing; a start not renewed is followed by a stop on its own. */
export interface ChatTypingEvent {
  type: 'chat_typing';
  presentation_id: string;
  user_id: string;
  user_name: string;
  typing: boolean;
  timestamp: string;
}

/** A member's read mark moved forward to `message_id` (the newest message they have read). */
export interface ChatReadEvent {
  type: 'chat_read';
  presentation_id: string;
  user_id: string;
  message_id: string;
  read_at: string;
  timestamp: string;
}

export type ChatEvent = ChatMessageEvent | ChatTypingEvent | ChatReadEvent;

/** One member's read mark (`GET /presentations/{id}/chat/reads`). */
export interface ChatReadMark {
  user_id: string;
  message_id: string;
  read_at: string;
}
