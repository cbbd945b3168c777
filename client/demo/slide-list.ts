/**
 * The slide list: titles, who is on each slide, lock badges, adding a slide, and moving one up or down (a move sets
 * the slide's order key only, so two people moving one slide at once never duplicate it; a slide someone else holds
 * cannot be moved).
 */
import type { Locks, Peer, SlideSummary } from '../index.js';
import { h, initials } from './dom.js';

export interface SlideListModel {
  slides: SlideSummary[];
  currentId: string | undefined;
  locks: Locks;
  peers: Peer[];
  onSelect(slideId: string): void;
  onAdd(): void;
  /** Moves a slide to position `index` of the order. */
  onMove(slideId: string, index: number): void;
}

export function lockBadge(locks: Locks, slideId: string): HTMLElement | null {
  const lock = locks.holder(slideId);
  if (!lock) return null;
  const label = locks.isMine(slideId) ? 'Locked by you' : `Locked by ${lock.name}`;
  return h(
    'span',
    { class: 'lock-badge', style: `border-color:${lock.color};color:${lock.color}`, 'data-testid': 'lock-badge', title: label },
    label,
  );
}

/** What the list shows, as a string: the list is rebuilt only when it changes (not on every caret move). */
function signatureOf(model: SlideListModel): string {
  return JSON.stringify([
    model.slides,
    model.currentId,
    model.slides.map((slide) => [model.locks.holder(slide.id)?.name ?? null, model.locks.isMine(slide.id)]),
    model.peers.map((peer) => [peer.clientId, peer.slideId, peer.user.name, peer.user.color]),
  ]);
}

const rendered = new WeakMap<HTMLElement, string>();

export function renderSlideList(root: HTMLElement, model: SlideListModel): void {
  const signature = signatureOf(model);
  if (rendered.get(root) === signature) return;
  rendered.set(root, signature);
  const items = model.slides.map((slide, index) => {
    const here = model.peers.filter((peer) => peer.slideId === slide.id);
    const heldByOther = model.locks.holder(slide.id) !== undefined && !model.locks.isMine(slide.id);
    const mover = (label: string, testId: string, to: number, disabled: boolean) =>
      h(
        'button',
        { class: 'move', 'data-testid': testId, title: label, 'aria-label': label, disabled, onclick: () => model.onMove(slide.id, to) },
        label === 'Move up' ? '↑' : '↓',
      );
    return h(
      'li',
      { class: 'slide-row' },
      h(
        'button',
        {
          class: `slide-item${slide.id === model.currentId ? ' current' : ''}`,
          'data-testid': 'slide-item',
          'data-slide-id': slide.id,
          title: slide.title || 'Untitled',
          // On press, not on click: a list rebuilt between press and release (someone joined, a lock changed) would
          // swallow the click. `click` stays for the keyboard (Enter, Space); selecting twice is harmless.
          onpointerdown: (event: Event) => {
            if ((event as PointerEvent).button === 0) model.onSelect(slide.id);
          },
          onclick: () => model.onSelect(slide.id),
        },
        h('span', { class: 'slide-number' }, String(index + 1)),
        h('span', { class: 'slide-title' }, slide.title || 'Untitled'),
        h(
          'span',
          { class: 'slide-peers' },
          ...here.map((peer) => h('span', { class: 'dot', style: `background:${peer.user.color}`, title: peer.user.name }, initials(peer.user.name))),
        ),
        lockBadge(model.locks, slide.id),
      ),
      mover('Move up', 'move-up', index - 1, heldByOther || index === 0),
      mover('Move down', 'move-down', index + 1, heldByOther || index === model.slides.length - 1),
    );
  });
  root.replaceChildren(
    h('h2', {}, 'Slides'),
    h('ol', { class: 'slides' }, ...items),
    h('button', { class: 'secondary', 'data-testid': 'add-slide', onclick: () => model.onAdd() }, '+ Add slide'),
  );
}
