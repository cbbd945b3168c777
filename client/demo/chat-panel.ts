/**
 * The deck's chat: the latest messages (one's own can be deleted: a tombstone stays), a typing line ("Bob is
 * typing…"), read marks ("Seen by Alice" under the newest message each member has read) and a form. Messages are
 * marked read while the page is visible; a `reset` (a reconnection) reloads everything.
 */
import type { ChatMessage, ChatReadMark, ChatRoom } from '../index.js';
import { h } from './dom.js';
import type { Me } from './header.js';

const SHOWN = 50;

export class ChatPanel {
  private messages: ChatMessage[] = [];
  private readonly reads = new Map<string, ChatReadMark>();
  private readonly list = h('ol', { class: 'chat-messages', 'data-testid': 'chat-messages' });
  private readonly typingLine = h('p', { class: 'typing', 'data-testid': 'chat-typing' });
  private readonly input = h('textarea', { 'data-testid': 'chat-input', rows: 2, placeholder: 'Message the deck…', maxlength: 4000 });

  constructor(
    root: HTMLElement,
    private readonly room: ChatRoom,
    private readonly me: Me,
    /** The display name of a member (for read marks of members who have not posted). */
    private readonly nameOf: (userId: string) => string,
    private readonly onError: (error: unknown) => void,
  ) {
    const form = h('form', {}, this.input, h('button', { type: 'submit', 'data-testid': 'chat-send' }, 'Send'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener('input', () => (this.input.value ? room.typing() : room.typing(false)));
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        this.send();
      }
    });
    root.replaceChildren(h('h2', {}, 'Chat'), this.list, this.typingLine, form);

    room.on('message', (message) => {
      this.messages = [message, ...this.messages.filter((m) => m.id !== message.id)].slice(0, SHOWN);
      this.render();
      this.markRead();
    });
    const replace = (message: ChatMessage) => {
      this.messages = this.messages.map((m) => (m.id === message.id ? message : m));
      this.render();
    };
    room.on('updated', replace);
    room.on('deleted', replace);
    room.on('read', (mark) => {
      this.reads.set(mark.user_id, mark);
      this.render();
    });
    room.on('typing', () => this.renderTyping());
    room.on('reset', () => void this.load());
    room.on('error', onError);
    document.addEventListener('visibilitychange', () => this.markRead());
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const [messages, reads] = await Promise.all([this.room.history({ limit: SHOWN }), this.room.reads()]);
      this.messages = messages;
      this.reads.clear();
      for (const mark of reads) this.reads.set(mark.user_id, mark);
      this.render();
      this.renderTyping();
      this.markRead();
    } catch (err) {
      this.onError(err);
    }
  }

  /** The newest message read, while the page is visible (the server ignores marks that do not move forward). */
  private markRead(): void {
    const newest = this.messages[0];
    if (!newest || document.hidden || this.reads.get(this.me.id)?.message_id === newest.id) return;
    this.room.markRead(newest.id).catch(this.onError);
  }

  private send(): void {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = '';
    this.room.send(text).catch((err: unknown) => {
      this.input.value = text;
      this.onError(err);
    });
  }

  private renderTyping(): void {
    const names = this.room
      .typists()
      .filter((t) => t.user_id !== this.me.id)
      .map((t) => t.user_name);
    this.typingLine.textContent = names.length === 0 ? '' : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`;
  }

  private render(): void {
    // "Seen by": under the newest message each other member has read (not its author's own mark).
    const seenBy = new Map<string, string[]>();
    for (const mark of this.reads.values()) {
      if (mark.user_id === this.me.id) continue;
      seenBy.set(mark.message_id, [...(seenBy.get(mark.message_id) ?? []), mark.user_id]);
    }
    this.list.replaceChildren(
      ...[...this.messages].reverse().map((message) => {
        const seen = seenBy.get(message.id)?.filter((id) => id !== message.user_id);
        const remove =
          message.user_id === this.me.id && !message.deleted
            ? h(
                'button',
                { class: 'link', 'data-testid': 'chat-delete', onclick: () => void this.room.delete(message.id).catch(this.onError) },
                'Delete',
              )
            : null;
        return h(
          'li',
          { class: message.deleted ? 'deleted' : '', 'data-testid': 'chat-message', 'data-id': message.id },
          h(
            'div',
            { class: 'comment-head' },
            h('strong', {}, message.user_name),
            h('time', {}, new Date(message.created_at).toLocaleTimeString()),
            remove,
          ),
          h('p', {}, message.deleted ? 'Message deleted' : message.text),
          seen?.length ? h('small', { class: 'seen', 'data-testid': 'chat-seen' }, `Seen by ${seen.map(this.nameOf).join(', ')}`) : null,
        );
      }),
    );
    if (this.messages.length === 0) this.list.append(h('li', { class: 'empty' }, 'No messages yet.'));
    this.list.scrollTop = this.list.scrollHeight;
  }
}
