/**
 * The current slide: its title (an input bound to the slide's `title` Y.Text), its rich body (TipTap bound to the
 * slide's `content` Y.XmlFragment, with everyone's carets), and its lock (button, badge, and a banner when someone
 * else holds it: the server refuses edits there, which the page shows as an error toast, and the session then
 * replaces its document with the server's: `rebind`), and deleting it (refused while someone else holds its lock).
 */
import { Editor } from '@tiptap/core';
import Collaboration from '@tiptap/extension-collaboration';
import CollaborationCaret from '@tiptap/extension-collaboration-caret';
import StarterKit from '@tiptap/starter-kit';
import { bindTextInput, type PresentationSession } from '../index.js';
import { h } from './dom.js';
import type { Me } from './header.js';

export class SlideEditor {
  private editor: Editor | undefined;
  private unbindTitle: (() => void) | undefined;
  private slideId: string | undefined;
  private readonly title = h('input', {
    class: 'title-input',
    'data-testid': 'title-input',
    'aria-label': 'Slide title',
    placeholder: 'Slide title',
  });
  private readonly typing = h('span', { class: 'typing' });
  private readonly lockButton = h('button', { class: 'secondary', 'data-testid': 'lock-button' });
  private readonly deleteButton = h(
    'button',
    { class: 'secondary', 'data-testid': 'delete-slide', title: 'Delete this slide for everyone' },
    'Delete',
  );
  private readonly banner = h('div', { class: 'lock-banner', 'data-testid': 'lock-banner', hidden: true });
  private readonly body = h('div', { class: 'editor', 'data-testid': 'editor' });

  constructor(
    root: HTMLElement,
    private readonly session: PresentationSession,
    private readonly me: Me,
    private readonly onError: (error: unknown) => void,
  ) {
    root.replaceChildren(h('div', { class: 'title-row' }, this.title, this.lockButton, this.deleteButton), this.typing, this.banner, this.body);
    this.lockButton.addEventListener('click', () => this.toggleLock());
    this.deleteButton.addEventListener('click', () => this.deleteSlide());
    const publishCaret = () => {
      if (this.slideId)
        this.session.presence.setCursor(this.session.slides.title(this.slideId), this.title.selectionStart ?? 0, this.title.selectionEnd ?? 0);
    };
    for (const event of ['focus', 'select', 'keyup', 'click', 'input']) this.title.addEventListener(event, publishCaret);
    this.title.addEventListener('blur', () => this.session.presence.setCursor(null));
  }

  get currentSlide(): string | undefined {
    return this.slideId;
  }

  show(slideId: string): void {
    if (slideId === this.slideId) return;
    this.bind(slideId);
  }

  /** Binds the current slide again: the session replaced its document (after a refused edit). */
  rebind(): void {
    if (this.slideId && this.session.slides.has(this.slideId)) this.bind(this.slideId);
  }

  private bind(slideId: string): void {
    this.unbind();
    this.slideId = slideId;
    this.unbindTitle = bindTextInput(this.title, this.session.slides.title(slideId));
    this.editor = new Editor({
      element: this.body,
      extensions: [
        StarterKit.configure({ undoRedo: false }),
        Collaboration.configure({ fragment: this.session.slides.content(slideId) }),
        CollaborationCaret.configure({ provider: this.session.provider, user: { name: this.me.name, color: this.me.color } }),
      ],
    });
    this.refresh();
  }

  /** Lock state and who is typing in the title, after locks or presence changed. */
  refresh(): void {
    const slideId = this.slideId;
    if (!slideId) return;
    const { locks, presence } = this.session;
    const lock = locks.holder(slideId);
    this.lockButton.textContent = locks.isMine(slideId) ? 'Unlock slide' : 'Lock slide';
    this.lockButton.disabled = locks.isLockedByOther(slideId);
    this.deleteButton.disabled = locks.isLockedByOther(slideId);
    this.banner.hidden = !locks.isLockedByOther(slideId);
    if (lock) {
      this.banner.textContent = `${lock.name} locked this slide: your changes here will be undone.`;
      this.banner.style.borderColor = lock.color;
    }
    const titleText = this.session.slides.title(slideId);
    const inTitle = presence.others().filter((peer) => presence.cursorIn(peer, titleText));
    this.title.style.outlineColor = inTitle[0]?.user.color ?? '';
    this.title.classList.toggle('remote-focus', inTitle.length > 0);
    this.typing.textContent = inTitle.length ? `${inTitle.map((p) => p.user.name).join(', ')} editing the title` : '';
  }

  destroy(): void {
    this.unbind();
    this.slideId = undefined;
  }

  private unbind(): void {
    this.unbindTitle?.();
    this.editor?.destroy();
    this.editor = undefined;
    this.body.replaceChildren();
  }

  /** Removes the slide for everyone (the app then shows the first slide), releasing its lock if it was ours. */
  private deleteSlide(): void {
    const slideId = this.slideId;
    if (!slideId) return;
    const { locks, slides } = this.session;
    const mine = locks.isMine(slideId);
    slides.remove(slideId);
    if (mine) locks.unlock(slideId).catch(this.onError);
  }

  private toggleLock(): void {
    const slideId = this.slideId;
    if (!slideId) return;
    const { locks } = this.session;
    (locks.isMine(slideId) ? locks.unlock(slideId) : locks.lock(slideId)).catch(this.onError);
  }
}
