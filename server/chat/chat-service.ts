/**
 * Chat per presentation, whatever the transport (REST, the notifications socket): who may do what
 * (server/access/policy.ts: members read and mark read; `chat` — commenters and up — post, edit and delete their own
 * messages and type; `moderate_chat` — owners — delete anyone's), the limits on text and rate, what is stored
 * (./chat-store.ts) and what is announced (./chat-events.ts). Refusals are DomainErrors.
 */
import type { ChatMessage, ChatReadMark } from '../../shared/chat.js';
import { CHAT_MAX_TEXT_LENGTH } from '../../shared/chat.js';
import { requirePresentationRole } from '../access/presentation-role.js';
import { can, roleFor, type Action, type Role } from '../access/policy.js';
import type { Principal } from '../auth/jwt.js';
import { DomainError } from '../errors.js';
import type { RateWindow } from '../limits/rate-window.js';
import type { PresentationStore } from '../store/presentations.js';
import type { ChatEvents } from './chat-events.js';
import type { ChatStore, StoredMessage } from './chat-store.js';
import type { TypingTracker } from './typing.js';

export interface ChatServiceDeps {
  store: ChatStore;
  presentations: PresentationStore;
  events: ChatEvents;
  typing: TypingTracker;
  /** Posts and edits per user (across instances with Redis). */
  rate: RateWindow;
}

/** What a REST caller holds a typing indicator with (a connection holds its own). */
const REST_TYPIST = {};

/** The text as stored: trimmed; refused when empty, too long, or holding characters Postgres cannot store. */
function cleanText(text: string): string {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new DomainError('INVALID_MESSAGE', 'text must not be empty');
  if (trimmed.length > CHAT_MAX_TEXT_LENGTH) throw new DomainError('INVALID_MESSAGE', `text is longer than ${CHAT_MAX_TEXT_LENGTH} characters`);
  if (trimmed.includes('\u0000')) throw new DomainError('INVALID_MESSAGE', 'text must not contain NUL characters');
  return trimmed;
}

export class ChatService {
  constructor(private readonly deps: ChatServiceDeps) {}

  async post(principal: Principal, presentationId: string, body: { text: string; reply_to?: string | null }): Promise<ChatMessage> {
    await this.require(principal, presentationId, 'chat');
    const text = cleanText(body.text);
    await this.checkRate(principal);
    const stored = await this.deps.store.insert({
      presentationId,
      userId: principal.userId,
      userName: principal.name,
      text,
      replyTo: body.reply_to ?? null,
    });
    if (!stored) throw new DomainError('INVALID_MESSAGE', `reply_to: no message ${body.reply_to} in this presentation`);
    await this.deps.events.message('chat_message', stored.message);
    // Posting ends the author's typing indicator here at once (not after the timeout).
    await this.deps.typing.clear(presentationId, principal.userId);
    return stored.message;
  }

  /** A page of history, newest first: the `limit` messages before `before` (a message id), or the newest. */
  async history(principal: Principal, presentationId: string, options: { before?: string; limit: number }): Promise<ChatMessage[]> {
    await this.require(principal, presentationId, 'read');
    let beforeSeq: number | null = null;
    if (options.before !== undefined) {
      const before = await this.deps.store.get(options.before);
      if (!before || before.message.presentation_id !== presentationId) {
        throw new DomainError('INVALID_MESSAGE', `before: no message ${options.before} in this presentation`);
      }
      beforeSeq = before.seq;
    }
    return (await this.deps.store.history(presentationId, beforeSeq, options.limit)).map((m) => m.message);
  }

  /** The author changes the text of a message (not of a deleted one). */
  async edit(principal: Principal, messageId: string, text: string): Promise<ChatMessage> {
    const current = await this.messageFor(principal, messageId);
    await this.require(principal, current.message.presentation_id, 'chat');
    if (current.message.user_id !== principal.userId) throw new DomainError('PERMISSION_DENIED', 'only the author may edit a message');
    if (current.message.deleted) throw new DomainError('CONFLICT', 'the message was deleted');
    const clean = cleanText(text);
    await this.checkRate(principal);
    const edited = await this.deps.store.edit(messageId, clean);
    if (!edited) throw new DomainError('CONFLICT', 'the message was deleted');
    await this.deps.events.message('chat_message_updated', edited.message);
    return edited.message;
  }

  /** The author, or whoever may moderate the chat (owners), deletes a message: a tombstone stays. Idempotent. */
  async remove(principal: Principal, messageId: string): Promise<ChatMessage> {
    const current = await this.messageFor(principal, messageId);
    const role = await this.require(principal, current.message.presentation_id, 'read');
    const own = current.message.user_id === principal.userId && can(role, 'chat');
    if (!own && !can(role, 'moderate_chat')) throw new DomainError('PERMISSION_DENIED', 'only the author or an owner may delete a message');
    if (current.message.deleted) return current.message;
    const tombstone = await this.deps.store.tombstone(messageId);
    // Null: deleted meanwhile by someone else, who announced it.
    if (!tombstone) return { ...current.message, text: '', deleted: true };
    await this.deps.events.message('chat_message_deleted', tombstone.message);
    return tombstone.message;
  }

  async unread(principal: Principal, presentationId: string): Promise<number> {
    await this.require(principal, presentationId, 'read');
    return this.deps.store.unread(presentationId, principal.userId);
  }

  async reads(principal: Principal, presentationId: string): Promise<ChatReadMark[]> {
    await this.require(principal, presentationId, 'read');
    return this.deps.store.reads(presentationId);
  }

  /** Moves the caller's read mark forward to `messageId`, announced when it moved; returns the mark. */
  async markRead(principal: Principal, presentationId: string, messageId: string): Promise<ChatReadMark> {
    await this.require(principal, presentationId, 'read');
    const result = await this.deps.store.markRead(presentationId, principal.userId, messageId);
    if (!result) throw new DomainError('NOT_FOUND', `no message ${messageId} in this presentation`);
    if (result.changed) await this.deps.events.read(presentationId, result.mark);
    return result.mark;
  }

  /** The caller types (or stopped) in the presentation's chat; `holder` is the connection (none: a REST call). */
  async setTyping(principal: Principal, presentationId: string, typing: boolean, holder: object = REST_TYPIST): Promise<void> {
    await this.require(principal, presentationId, 'chat');
    if (typing) await this.deps.typing.start({ presentationId, userId: principal.userId, userName: principal.name }, holder);
    else await this.deps.typing.stop(presentationId, principal.userId, holder);
  }

  /** The connection `holder` closed: the typing it held stops. */
  connectionClosed(holder: object): void {
    this.deps.typing.release(holder);
  }

  /** The message, for a caller who may read its presentation (NOT_FOUND otherwise, so ids reveal nothing). */
  private async messageFor(principal: Principal, messageId: string): Promise<StoredMessage> {
    const stored = await this.deps.store.get(messageId);
    if (!stored || !can(await roleFor(principal, (userId) => this.deps.presentations.roleOf(stored.message.presentation_id, userId)), 'read')) {
      throw new DomainError('NOT_FOUND', `no chat message ${messageId}`);
    }
    return stored;
  }

  /** The caller's role when it may perform `action` on the presentation (server/access: NOT_FOUND, PERMISSION_DENIED). */
  private require(principal: Principal, presentationId: string, action: Action): Promise<Role> {
    return requirePresentationRole(this.deps.presentations, presentationId, principal, action);
  }

  private async checkRate(principal: Principal): Promise<void> {
    const decision = await this.deps.rate.hit(principal.userId);
    if (!decision.ok) {
      const { max, windowMs } = this.deps.rate;
      throw new DomainError(
        'RATE_LIMIT_EXCEEDED',
        `at most ${max} chat messages per ${windowMs / 1000} s: retry in ${Math.ceil(decision.retryAfterMs / 1000)} s`,
        {
          retry_after_ms: decision.retryAfterMs,
        },
      );
    }
  }
}
