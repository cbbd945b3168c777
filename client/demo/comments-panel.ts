/** Comments on the current slide: the thread (resolve / reopen) and a form to add one. */
import type { PresentationSession } from '../index.js';
import { h } from './dom.js';

export class CommentsPanel {
  private slideId: string | undefined;
  private readonly list = h('ul', { class: 'comments' });
  private readonly input = h('textarea', { 'data-testid': 'comment-input', rows: 2, placeholder: 'Add a comment…', maxlength: 2000 });

  constructor(
    root: HTMLElement,
    private readonly session: PresentationSession,
    private readonly onError: (error: unknown) => void,
  ) {
    const form = h('form', {}, this.input, h('button', { type: 'submit', 'data-testid': 'comment-add' }, 'Comment'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.add();
    });
    root.replaceChildren(h('h2', {}, 'Comments'), this.list, form);
  }

  show(slideId: string): void {
    this.slideId = slideId;
    this.render();
  }

  render(): void {
    const slideId = this.slideId;
    if (!slideId) return;
    const comments = this.session.comments.list(slideId);
    this.list.replaceChildren(
      ...comments.map((comment) => {
        const toggle = h('input', { type: 'checkbox', title: 'Resolved', checked: comment.resolved });
        toggle.addEventListener('change', () => this.session.comments.resolve(slideId, comment.id, toggle.checked));
        return h(
          'li',
          { class: comment.resolved ? 'resolved' : '', 'data-testid': 'comment' },
          h(
            'div',
            { class: 'comment-head' },
            h('strong', {}, comment.author),
            h('time', {}, new Date(comment.createdAt).toLocaleTimeString()),
            toggle,
          ),
          h('p', {}, comment.text),
        );
      }),
    );
    if (comments.length === 0) this.list.append(h('li', { class: 'empty' }, 'No comments yet.'));
  }

  private add(): void {
    if (!this.slideId || !this.input.value.trim()) return;
    try {
      this.session.comments.add(this.slideId, this.input.value);
      this.input.value = '';
    } catch (err) {
      this.onError(err);
    }
  }
}
