/**
 * The chat of one presentation (`client.chat(id)`): send, edit, delete, history pages, unread count and read marks
 * over REST; live events over the client's channel stream (channel `chat.{id}`); typing and read signals over its
 * WebSocket (REST when the stream is on SSE or not open).
 *
 * - `typing()` is meant for every keystroke: it sends `typing:true` at most every RENEW_MS and `typing:false` after
 *   IDLE_MS without a keystroke (or at once with `typing(false)`, and when a message is sent); the server ends it
 *   anyway if the signals stop (it times out, or the connection closes).
 * - `reset` means the live events may have had a gap (the stream reconnected, or the server lost events): reload the
 *   history (and read marks) to be exact. Live typing indicators are cleared then.
 */
import type { ChatMessage, ChatReadMark } from '../../shared/chat.js';
import { channelName } from '../../shared/channels.js';
import type { ClientContext } from '../context.js';
import { DeckhandError } from '../errors.js';
import { Emitter } from '../emitter.js';
import type { ChannelStream } from '../live/channel-stream.js';
import { requestJson } from '../rest.js';
import { isChatMessage, isReadEvent, isReadMark, isTypingEvent, messageOf } from './wire.js';

/** How often a keystroke renews the typing indicator (the server's default timeout is 5 s). */
const RENEW_MS = 2000;
/** How long without a keystroke before the SDK says the user stopped typing. */
const IDLE_MS = 3000;

export interface Typist {
  user_id: string;
  user_name: string;
}

export interface ChatRoomEvents {
  message: ChatMessage;
  updated: ChatMessage;
  deleted: ChatMessage;
  /** Someone started or stopped typing (`typists()` is already updated). */
  typing: Typist & { typing: boolean };
  read: ChatReadMark;
  /** Live events may have been missed: reload the history and read marks. */
  reset: undefined;
  error: DeckhandError;
}

export class ChatRoom {
  private readonly events = new Emitter<ChatRoomEvents>();
  private readonly typingNow = new Map<string, string>();
  private readonly stopFollowing: () => void;
  private readonly base: string;
  private typingSentAt = 0;
  private typingIdle: ReturnType<typeof setTimeout> | undefined;
  private opened = false;

  constructor(
    private readonly ctx: ClientContext,
    private readonly stream: ChannelStream,
    readonly presentationId: string,
    private readonly onClosed: () => void = () => {},
  ) {
    this.base = `/api/v1/presentations/${encodeURIComponent(presentationId)}/chat`;
    this.stopFollowing = stream.follow(channelName({ kind: 'chat', presentationId }), {
      message: (message) => this.receive(message),
      opened: () => {
        // The first opening is the start; any later one may have missed events.
        if (this.opened) this.reset();
        this.opened = true;
      },
      error: (error) => this.events.emit('error', error),
    });
  }

  on<K extends keyof ChatRoomEvents>(event: K, listener: (payload: ChatRoomEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Who is typing now, as announced by the server (the signed-in user included). */
  typists(): Typist[] {
    return [...this.typingNow].map(([user_id, user_name]) => ({ user_id, user_name }));
  }

  async send(text: string, options: { replyTo?: string } = {}): Promise<ChatMessage> {
    this.typing(false);
    return this.expectMessage(await requestJson(this.ctx, 'POST', this.base, { text, ...(options.replyTo ? { reply_to: options.replyTo } : {}) }));
  }

  async edit(messageId: string, text: string): Promise<ChatMessage> {
    return this.expectMessage(await requestJson(this.ctx, 'PATCH', `/api/v1/chat/${encodeURIComponent(messageId)}`, { text }));
  }

  /** Deletes a message (one's own, or any as an owner); resolves with its tombstone. */
  async delete(messageId: string): Promise<ChatMessage> {
    return this.expectMessage(await requestJson(this.ctx, 'DELETE', `/api/v1/chat/${encodeURIComponent(messageId)}`));
  }

  /** A page of history, newest first: before the message `before` (an id), or the newest. */
  async history(options: { before?: string; limit?: number } = {}): Promise<ChatMessage[]> {
    const query = new URLSearchParams();
    if (options.before) query.set('before', options.before);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    const search = query.toString();
    const body = (await requestJson(this.ctx, 'GET', `${this.base}${search ? `?${search}` : ''}`)) as { messages?: unknown } | undefined;
    if (!Array.isArray(body?.messages) || !body.messages.every(isChatMessage))
      throw new DeckhandError('INTERNAL_ERROR', 'unexpected chat history from the server');
    return body.messages;
  }

  async unread(): Promise<number> {
    const body = (await requestJson(this.ctx, 'GET', `${this.base}/unread`)) as { unread?: unknown } | undefined;
    if (typeof body?.unread !== 'number') throw new DeckhandError('INTERNAL_ERROR', 'unexpected unread count from the server');
    return body.unread;
  }

  /** Every member's read mark. */
  async reads(): Promise<ChatReadMark[]> {
    const body = (await requestJson(this.ctx, 'GET', `${this.base}/reads`)) as { reads?: unknown } | undefined;
    if (!Array.isArray(body?.reads) || !body.reads.every(isReadMark))
      throw new DeckhandError('INTERNAL_ERROR', 'unexpected read marks from the server');
    return body.reads;
  }

  /** Moves the signed-in user's read mark forward to `messageId` (announced to the room as `read`). */
  async markRead(messageId: string): Promise<void> {
    if (this.stream.send({ type: 'chat_read', presentation_id: this.presentationId, message_id: messageId })) return;
    await requestJson(this.ctx, 'POST', `${this.base}/read`, { message_id: messageId });
  }

  /** Call on every keystroke (`typing()`), or `typing(false)` when the user stopped (sending does it too). */
  typing(active = true): void {
    clearTimeout(this.typingIdle);
    this.typingIdle = undefined;
    if (!active) {
      if (this.typingSentAt === 0) return;
      this.typingSentAt = 0;
      this.signalTyping(false);
      return;
    }
    const now = Date.now();
    if (now - this.typingSentAt >= RENEW_MS) {
      this.typingSentAt = now;
      this.signalTyping(true);
    }
    this.typingIdle = setTimeout(() => this.typing(false), IDLE_MS);
  }

  close(): void {
    this.typing(false);
    this.stopFollowing();
    this.events.clear();
    this.typingNow.clear();
    this.onClosed();
  }

  private signalTyping(typing: boolean): void {
    if (this.stream.send({ type: 'chat_typing', presentation_id: this.presentationId, typing })) return;
    requestJson(this.ctx, 'POST', `${this.base}/typing`, { typing }).catch((err: unknown) => {
      this.events.emit('error', err instanceof DeckhandError ? err : new DeckhandError('INTERNAL_ERROR', String(err)));
    });
  }

  private reset(): void {
    this.typingNow.clear();
    this.events.emit('reset', undefined);
  }

  private receive(message: Record<string, unknown>): void {
    if (message.type === 'reset') {
      if (Array.isArray(message.channels) && message.channels.includes(channelName({ kind: 'chat', presentationId: this.presentationId })))
        this.reset();
      return;
    }
    if (message.presentation_id !== this.presentationId) return;
    switch (message.type) {
      case 'chat_message':
      case 'chat_message_updated':
      case 'chat_message_deleted': {
        const chat = messageOf(message);
        if (!chat) return;
        this.events.emit(message.type === 'chat_message' ? 'message' : message.type === 'chat_message_updated' ? 'updated' : 'deleted', chat);
        return;
      }
      case 'chat_typing':
        if (!isTypingEvent(message)) return;
        if (message.typing) this.typingNow.set(message.user_id, message.user_name);
        else this.typingNow.delete(message.user_id);
        this.events.emit('typing', { user_id: message.user_id, user_name: message.user_name, typing: message.typing });
        return;
      case 'chat_read':
        if (isReadEvent(message)) this.events.emit('read', { user_id: message.user_id, message_id: message.message_id, read_at: message.read_at });
    }
  }

  private expectMessage(body: unknown): ChatMessage {
    if (!isChatMessage(body)) throw new DeckhandError('INTERNAL_ERROR', 'unexpected chat message from the server');
    return body;
  }
}
