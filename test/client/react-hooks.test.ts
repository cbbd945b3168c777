/**
 * The React hooks (client/react.ts) against a real server, run by a minimal hook runtime with React's rules for
 * `useState` (a change re-renders) and `useEffect` (runs after render when its deps change; cleanup first, and on
 * unmount). React itself is not a dependency of this repository.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Through the package's own exports map, as an application imports them.
import type { DeckhandClient } from 'deckhand/client';
import { createDeckhandHooks, type ReactHooksLike } from 'deckhand/client/react';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { api, createJob, destroyClients, reportProgress, sdkClient, waitFor } from './support.js';

/** One component's hook state: `react` is what the hooks are created with, `mount` renders the component. */
function hookRuntime() {
  const states: unknown[] = [];
  const effects: { deps: readonly unknown[]; cleanup: (() => void) | void }[] = [];
  let pending: (() => void)[] = [];
  let stateIndex = 0;
  let effectIndex = 0;
  let render = () => {};
  const react: ReactHooksLike = {
    useState<S>(initial: S | (() => S)) {
      const i = stateIndex++;
      if (!(i in states)) states[i] = typeof initial === 'function' ? (initial as () => S)() : initial;
      const set = (next: S) => {
        if (Object.is(states[i], next)) return;
        states[i] = next;
        queueMicrotask(() => render());
      };
      return [states[i] as S, set];
    },
    useEffect(effect, deps) {
      const i = effectIndex++;
      const previous = effects[i];
      if (previous && deps.every((d, k) => Object.is(d, previous.deps[k]))) return;
      pending.push(() => {
        previous?.cleanup?.();
        effects[i] = { deps, cleanup: effect() };
      });
    },
  };
  function mount<P, T>(component: (props: P) => T, initialProps: P) {
    let props = initialProps;
    let result!: T;
    let mounted = true;
    render = () => {
      if (!mounted) return;
      stateIndex = effectIndex = 0;
      result = component(props);
      const run = pending;
      pending = [];
      run.forEach((effect) => effect());
    };
    render();
    return {
      get current() {
        return result;
      },
      rerender(next: P) {
        props = next;
        render();
      },
      unmount() {
        mounted = false;
        effects.forEach((e) => e.cleanup?.());
      },
    };
  }
  return { react, mount };
}

describe('React hooks', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('hooks') });
  });
  afterAll(async () => {
    destroyClients();
    await server?.close();
  });

  it('usePresentation and usePresence follow the session; useJob follows a job and reports a fatal error', async () => {
    const client: DeckhandClient = sdkClient(server.url, 'hana');
    const runtime = hookRuntime();
    const { usePresentation, usePresence, useJob } = createDeckhandHooks(runtime.react);
    const view = runtime.mount(
      (props: { jobId: string | null }) => {
        const { session, state, doc } = usePresentation(client, 'hooks-deck');
        const peers = usePresence(session);
        const job = useJob(client, props.jobId);
        return { session, state, doc, peers, job };
      },
      { jobId: null as string | null },
    );
    await waitFor(() => view.current.state?.synced === true, 5000, 'synced');
    const opened = view.current.session!;
    expect(view.current.doc).toBe(opened.doc);

    // An edit refused by the server (a slide Ivan locked): the session replaces its document, `doc` follows.
    const slide = opened.slides.add({ title: 'Hooked' });
    await api(server.url, 'PUT', '/api/v1/presentations/hooks-deck/members/ivan', { role: 'editor' }, mintToken('hana'));
    const ivan = sdkClient(server.url, 'ivan').openPresentation('hooks-deck');
    await ivan.whenSynced();
    await waitFor(() => ivan.slides.has(slide), 5000, 'slide on ivan');
    await ivan.locks.lock(slide);
    await waitFor(() => opened.locks.isLockedByOther(slide), 5000, 'lock on hana');
    const first = view.current.doc;
    opened.slides.title(slide).delete(0, 3);
    await waitFor(() => view.current.doc !== first && view.current.doc === opened.doc, 5000, 'doc after the resync');
    expect(opened.slides.title(slide).toString()).toBe('Hooked');

    // A second tab of the same user.
    const guest = sdkClient(server.url, 'hana').openPresentation('hooks-deck');
    guest.presence.setSlide('s1');
    await waitFor(() => view.current.peers.some((p) => p.slideId === 's1'), 5000, 'peer');

    await createJob(server.url, 'hooks-job', 'hana');
    view.rerender({ jobId: 'hooks-job' });
    await waitFor(() => view.current.job.state?.status === 'queued', 5000, 'job state');
    await reportProgress(server.url, 'hooks-job', { status: 'processing', progress: 0.5 });
    await waitFor(() => view.current.job.state?.progress === 0.5, 5000, 'progress');
    view.rerender({ jobId: 'missing-job' });
    await waitFor(() => view.current.job.error?.code === 'NOT_FOUND', 5000, 'fatal error');
    expect(view.current.job.state).toBeNull();

    const session = view.current.session!;
    view.unmount();
    await expect(session.whenSynced()).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
