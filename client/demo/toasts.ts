/** Toasts in a corner: notifications from the server and errors, each dismissable, some with an action. */
import { h } from './dom.js';

export interface Toast {
  kind: 'info' | 'success' | 'warning' | 'error' | 'alert';
  title: string;
  message: string;
  /** Toasts with an id can be dismissed from elsewhere (a notification read in another tab). */
  id?: string;
  action?: { label: string; run(): void };
  /** Default: errors stay 8 s, others until dismissed. */
  timeoutMs?: number;
}

export class Toasts {
  private readonly byId = new Map<string, HTMLElement>();

  constructor(private readonly container: HTMLElement) {}

  show(toast: Toast): void {
    if (toast.id) this.dismiss(toast.id);
    const element = h(
      'div',
      { class: `toast toast-${toast.kind}`, 'data-testid': 'toast', 'data-kind': toast.kind, role: 'status' },
      h('strong', {}, toast.title),
      toast.message ? h('p', {}, toast.message) : null,
      toast.action ? h('button', { class: 'link', onclick: () => (toast.action!.run(), remove()) }, toast.action.label) : null,
      h('button', { class: 'close', 'aria-label': 'Dismiss', onclick: () => remove() }, '×'),
    );
    const remove = () => {
      element.remove();
      if (toast.id && this.byId.get(toast.id) === element) this.byId.delete(toast.id);
    };
    if (toast.id) this.byId.set(toast.id, element);
    this.container.prepend(element);
    const timeout = toast.timeoutMs ?? (toast.kind === 'error' ? 8000 : undefined);
    if (timeout) setTimeout(remove, timeout);
  }

  dismiss(id: string): void {
    this.byId.get(id)?.remove();
    this.byId.delete(id);
  }
}
