/**
 * The demo page's entry: `?name=Alice&deck=demo` signs in as Alice (a dev token) and opens the deck; without a
 * name it shows the join form. `?server=` points a statically served copy (npm run build:demo) at a server.
 */
import { isPresentationId } from '../../shared/presentation.js';
import { createDeckhandClient } from '../index.js';
import { startApp } from './app.js';
import { DevApi } from './dev-api.js';
import { h } from './dom.js';

const params = new URLSearchParams(location.search);
const server = params.get('server') ?? location.origin;
const root = document.getElementById('app') as HTMLElement;

function renderJoin(deck: string, problem?: string): void {
  const name = h('input', { name: 'name', required: true, maxlength: 64, placeholder: 'Your name', autofocus: true, 'data-testid': 'join-name' });
  const deckInput = h('input', { name: 'deck', required: true, maxlength: 128, value: deck, pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]*' });
  const form = h(
    'form',
    { class: 'join' },
    h('h1', {}, 'Deckhand demo'),
    h('p', {}, 'Pick a name and a deck. Open a second window with another name to see realtime collaboration.'),
    problem ? h('p', { class: 'problem', 'data-testid': 'join-problem' }, problem) : null,
    h('label', {}, 'Name ', name),
    h('label', {}, 'Deck ', deckInput),
    h('button', { type: 'submit' }, 'Join'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams(params);
    next.set('name', name.value.trim());
    next.set('deck', deckInput.value.trim());
    location.search = next.toString();
  });
  root.replaceChildren(form);
}

async function start(name: string, deck: string): Promise<void> {
  root.replaceChildren(h('p', { class: 'loading' }, `Connecting to ${deck}…`));
  const devApi = await DevApi.signIn(server, name, deck);
  const client = createDeckhandClient({ url: server, token: devApi.token });
  const session = client.openPresentation(deck);
  await new Promise<void>((resolve, reject) => {
    const off = session.onError((error) => (off(), reject(error)));
    void session.whenSynced().then(() => (off(), resolve()));
  });
  startApp(root, client, session, devApi);
}

const name = params.get('name')?.trim();
const deck = params.get('deck')?.trim() || 'demo';
if (!name) renderJoin(deck);
else if (!isPresentationId(deck)) renderJoin('demo', `“${deck}” is not a valid deck id (letters, digits, _ . -).`);
else start(name, deck).catch((err: unknown) => renderJoin(deck, err instanceof Error ? err.message : String(err)));
