/**
 * The demo editor: lays out the panels and wires them to the SDK's session, job follower, notifications, the deck's
 * chat and the status of everyone shown.
 */
import { colourFor } from '../../shared/colour.js';
import { DeckhandError, type DeckhandClient, type PresentationSession, type UserStatusValue } from '../index.js';
import { ChatPanel } from './chat-panel.js';
import { CommentsPanel } from './comments-panel.js';
import type { DevApi } from './dev-api.js';
import { h } from './dom.js';
import { GeneratePanel } from './generate-panel.js';
import { renderHeader, type Me } from './header.js';
import { SlideEditor } from './slide-editor.js';
import { renderSlideList } from './slide-list.js';
import { Toasts } from './toasts.js';
import { VersionsPanel } from './versions-panel.js';

export function startApp(root: HTMLElement, client: DeckhandClient, session: PresentationSession, devApi: DevApi): void {
  const me: Me = { id: devApi.identity.userId, name: devApi.identity.name, color: colourFor(devApi.identity.userId) };
  const header = h('header', { class: 'top' });
  const list = h('nav', { class: 'slide-list' });
  const main = h('main', { class: 'slide' });
  const comments = h('section', { class: 'panel' });
  const chat = h('section', { class: 'panel', 'data-testid': 'chat-panel' });
  const generate = h('section', { class: 'panel' });
  const versions = h('section', { class: 'panel' });
  const toastArea = h('div', { class: 'toasts', 'aria-live': 'polite' });
  root.replaceChildren(
    h('div', { class: 'layout' }, header, list, main, h('aside', { class: 'side' }, comments, chat, versions, generate)),
    toastArea,
  );

  const toasts = new Toasts(toastArea);
  // The same error again (every keystroke on a slide someone else locked) replaces its toast instead of stacking.
  const showError = (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    const code = err instanceof DeckhandError ? err.code : 'ERROR';
    const title = code.charAt(0) + code.slice(1).replace(/_/g, ' ').toLowerCase();
    toasts.show({ id: `${code}:${message}`, kind: 'error', title, message });
  };
  const editor = new SlideEditor(main, session, me, showError);
  const commentsPanel = new CommentsPanel(comments, session, showError);
  const role = devApi.identity.role;
  new VersionsPanel(versions, client, session.id, role === 'owner' || role === 'editor', toasts, showError);
  // The generator writes its slides into the deck through the operations API: they arrive here like anyone's edits.
  new GeneratePanel(generate, client, devApi, showError);

  const nameOf = (userId: string) =>
    userId === me.id ? me.name : (session.presence.others().find((p) => p.user.id === userId)?.user.name ?? userId);
  new ChatPanel(chat, client.chat(session.id), me, nameOf, showError);

  // Status dots: the status of everyone shown is followed live (and no longer once they leave).
  const statuses = new Map<string, UserStatusValue>();
  const statusFollows = new Map<string, () => void>();
  const followStatuses = () => {
    const shown = new Set([me.id, ...session.presence.others().map((p) => p.user.id)]);
    for (const id of shown) {
      if (statusFollows.has(id)) continue;
      statusFollows.set(
        id,
        client.status.follow(id, (status) => {
          statuses.set(id, status.status);
          renderTop();
        }),
      );
    }
    for (const [id, stop] of statusFollows) {
      if (shown.has(id)) continue;
      stop();
      statusFollows.delete(id);
      statuses.delete(id);
    }
  };
  const renderTop = () =>
    renderHeader(header, {
      deck: session.id,
      me,
      state: session.state,
      peers: session.presence.others(),
      statuses,
      onChoose: (status) => void client.status.set(status).catch(showError),
    });
  const renderList = () =>
    renderSlideList(list, {
      slides: session.slides.list(),
      currentId: editor.currentSlide,
      locks: session.locks,
      peers: session.presence.others(),
      onSelect: select,
      onAdd: () => select(session.slides.add({ title: 'New slide' })),
      onMove: (slideId, index) => session.slides.move(slideId, index),
    });
  function select(slideId: string): void {
    editor.show(slideId);
    commentsPanel.show(slideId);
    session.presence.setSlide(slideId);
    renderList();
  }
  const selectFirst = () => {
    const first = session.slides.list()[0];
    if (first) select(first.id);
  };

  session.slides.onChange((slides) => {
    const current = editor.currentSlide;
    if (current && !slides.some((s) => s.id === current)) {
      editor.destroy();
      selectFirst();
    } else if (!current) {
      selectFirst();
    }
    renderList();
  });
  session.locks.onChange(() => {
    renderList();
    editor.refresh();
  });
  session.presence.onChange(() => {
    followStatuses();
    renderList();
    renderTop();
    editor.refresh();
  });
  session.comments.onChange(() => commentsPanel.render());
  // After a refused edit the session replaces its document with the server's: the editor binds to the new one.
  session.onDocument(() => editor.rebind());
  session.onState(renderTop);
  session.onError(showError);
  client.notifications.onError(showError);
  client.notifications.subscribe(
    (n) =>
      toasts.show({
        id: n.id,
        kind: n.notification_type,
        title: n.title,
        message: n.message,
        action: n.channel.startsWith('user_')
          ? { label: 'Mark read', run: () => void client.notifications.markRead(n.id).catch(showError) }
          : undefined,
      }),
    (id) => toasts.dismiss(id),
  );
  document.addEventListener('visibilitychange', () => session.presence.setStatus(document.hidden ? 'away' : 'active'));

  session.presence.setStatus('active');
  followStatuses();
  if (session.slides.list().length === 0 && devApi.identity.role === 'owner') {
    session.slides.add({ title: 'Welcome', body: 'Type here. Open this page in another window with another name to edit together.' });
  }
  renderTop();
  selectFirst();
  renderList();
}
