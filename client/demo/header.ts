/** The top bar: the deck, the connection state (with unsaved edits) and who is here (avatars in their colours). */
import type { Peer, SessionState } from '../index.js';
import { h, initials } from './dom.js';

export interface Me {
  id: string;
  name: string;
  color: string;
}

function statusText(state: SessionState): string {
  if (state.status !== 'connected') return state.unsyncedChanges > 0 ? `Offline · ${state.unsyncedChanges} unsaved` : 'Offline';
  if (!state.synced) return 'Syncing…';
  return state.unsyncedChanges > 0 ? 'Saving…' : 'Saved';
}

function avatar(user: { name: string; color: string }, label: string): HTMLElement {
  return h('span', { class: 'avatar', style: `background:${user.color}`, title: label, 'data-testid': 'avatar', 'data-name': user.name }, initials(user.name));
}

export function renderHeader(root: HTMLElement, deck: string, me: Me, state: SessionState, peers: Peer[]): void {
  const users = new Map<string, Peer['user']>();
  for (const peer of peers) if (peer.user.id !== me.id) users.set(peer.user.id, peer.user);
  root.replaceChildren(
    h('h1', {}, 'Deckhand ', h('span', { class: 'deck' }, deck)),
    h('span', { class: `status status-${state.status}`, 'data-testid': 'status', 'data-status': state.status }, statusText(state)),
    h('div', { class: 'avatars' }, avatar(me, `${me.name} (you)`), ...[...users.values()].map((user) => avatar(user, user.name))),
  );
}
