/** The slide list: titles, who is on each slide, lock badges, and adding a slide. */
import type { Locks, Peer, SlideSummary } from '../index.js';
import { h, initials } from './dom.js';

export interface SlideListModel {
  slides: SlideSummary[];
  currentId: string | undefined;
  locks: Locks;
  peers: Peer[];
  onSelect(slideId: string): void;
  onAdd(): void;
}

export function lockBadge(locks: Locks, slideId: string): HTMLElement | null {
  const lock = locks.holder(slideId);
  if (!lock) return null;
  const label = locks.isMine(slideId) ? 'Locked by you' : `Locked by ${lock.name}`;
  return h('span', { class: 'lock-badge', style: `border-color:${lock.color};color:${lock.color}`, 'data-testid': 'lock-badge', title: label }, label);
}

export function renderSlideList(root: HTMLElement, model: SlideListModel): void {
  const items = model.slides.map((slide, index) => {
    const here = model.peers.filter((peer) => peer.slideId === slide.id);
    return h(
      'li',
      {},
      h(
        'button',
        {
          class: `slide-item${slide.id === model.currentId ? ' current' : ''}`,
          'data-testid': 'slide-item',
          'data-slide-id': slide.id,
          title: slide.title || 'Untitled',
          onclick: () => model.onSelect(slide.id),
        },
        h('span', { class: 'slide-number' }, String(index + 1)),
        h('span', { class: 'slide-title' }, slide.title || 'Untitled'),
        h('span', { class: 'slide-peers' }, ...here.map((peer) => h('span', { class: 'dot', style: `background:${peer.user.color}`, title: peer.user.name }, initials(peer.user.name)))),
        lockBadge(model.locks, slide.id),
      ),
    );
  });
  root.replaceChildren(
    h('h2', {}, 'Slides'),
    h('ol', { class: 'slides' }, ...items),
    h('button', { class: 'secondary', 'data-testid': 'add-slide', onclick: () => model.onAdd() }, '+ Add slide'),
  );
}
