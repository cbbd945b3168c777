/**
 * The top bar: the deck, the connection state (with unsaved edits), who is here (avatars in their colours, each with
 * a dot for the user's status: online, away, busy or offline) and one's own status to choose.
 */
import type { ChosenStatus, Peer, SessionState, UserStatusValue } from '../index.js';
import { h, initials } from './dom.js';

export interface Me {
  id: string;
  name: string;
  color: string;
}

const CHOICES: ChosenStatus[] = ['online', 'away', 'busy'];

function statusText(state: SessionState): string {
  if (state.status !== 'connected') return state.unsyncedChanges > 0 ? `Offline · ${state.unsyncedChanges} unsaved` : 'Offline';
  if (!state.synced) return 'Syncing…';
  return state.unsyncedChanges > 0 ? 'Saving…' : 'Saved';
}

function avatar(user: { name: string; color: string }, label: string, status: UserStatusValue | undefined): HTMLElement {
  return h(
    'span',
    {
      class: 'avatar',
      style: `background:${user.color}`,
      title: status ? `${label} · ${status}` : label,
      'data-testid': 'avatar',
      'data-name': user.name,
    },
    initials(user.name),
    status ? h('span', { class: `status-dot status-dot-${status}`, 'data-testid': 'status-dot', 'data-status': status }) : null,
  );
}

export interface HeaderView {
  deck: string;
  me: Me;
  state: SessionState;
  peers: Peer[];
  /** The status of each user shown (followed live). */
  statuses: ReadonlyMap<string, UserStatusValue>;
  /** One's own status changed in the picker. */
  onChoose: (status: ChosenStatus) => void;
}

export function renderHeader(root: HTMLElement, view: HeaderView): void {
  const { deck, me, state, peers, statuses } = view;
  const users = new Map<string, Peer['user']>();
  for (const peer of peers) if (peer.user.id !== me.id) users.set(peer.user.id, peer.user);
  const mine = statuses.get(me.id);
  const picker = h(
    'select',
    { 'data-testid': 'status-select', title: 'Your status' },
    ...CHOICES.map((c) => h('option', { value: c, selected: c === mine }, c)),
  );
  picker.addEventListener('change', () => view.onChoose(picker.value as ChosenStatus));
  root.replaceChildren(
    h('h1', {}, 'Deckhand ', h('span', { class: 'deck' }, deck)),
    h('span', { class: `status status-${state.status}`, 'data-testid': 'status', 'data-status': state.status }, statusText(state)),
    h(
      'div',
      { class: 'avatars' },
      avatar(me, `${me.name} (you)`, mine),
      ...[...users].map(([id, user]) => avatar(user, user.name, statuses.get(id))),
      picker,
    ),
  );
}
