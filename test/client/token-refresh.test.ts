import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDeckhandClient,
  type DeckhandError,
  type JobEvent,
  type LiveStatus,
  type NotificationMessage,
  type SessionState,
} from '../../client/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { api, createJob, FAST_RECONNECT, reportProgress, waitFor, WORKER_TOKEN } from './support.js';

const TOKEN_SECONDS = 4;

describe('SDK: short-lived tokens from a token function', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('sdktoken') });
  });
  afterAll(async () => server?.close());

  it('keeps a document, a job WebSocket, a job SSE stream and notifications alive across several token lifetimes', async () => {
    let minted = 0;
    const client = createDeckhandClient({
      url: server.url,
      token: () => (minted++, mintToken('gina', { name: 'Gina', expiresIn: TOKEN_SECONDS })),
      reconnect: FAST_RECONNECT,
    });
    try {
      const deck = client.openPresentation('refresh');
      const states: SessionState[] = [];
      const errors: DeckhandError[] = [];
      deck.onState((s) => states.push(s));
      deck.onError((e) => errors.push(e));
      await deck.whenSynced();
      await createJob(server.url, 'refresh-ws', 'gina');
      await createJob(server.url, 'refresh-sse', 'gina');
      const wsEvents: JobEvent[] = [];
      const sseEvents: JobEvent[] = [];
      const wsStatuses: LiveStatus[] = [];
      const notificationStatuses: LiveStatus[] = [];
      const notifications: NotificationMessage[] = [];
      const ws = client.followJob('refresh-ws', (e) => wsEvents.push(e), { transport: 'websocket', onStatus: (s) => wsStatuses.push(s) });
      const sse = client.followJob('refresh-sse', (e) => sseEvents.push(e), { transport: 'sse' });
      client.notifications.onStatus((s) => notificationStatuses.push(s));
      client.notifications.onError((e) => errors.push(e));
      client.notifications.subscribe((n) => notifications.push(n));
      await waitFor(() => wsEvents.length === 1 && sseEvents.length === 1, 5000, 'current states');
      await reportProgress(server.url, 'refresh-sse', { status: 'processing', progress: 0.25 });

      // The three long-lived connections each take a fresh token halfway through the current one: wait for two
      // lifetimes' worth (every token they started with has expired by then).
      const start = minted;
      await waitFor(() => minted - start >= 3 * 2 * 2, 2 * TOKEN_SECONDS * 1000 + 10_000, 'two token lifetimes');

      deck.slides.add({ title: 'typed with the latest token' });
      await reportProgress(server.url, 'refresh-ws', { status: 'completed' });
      await reportProgress(server.url, 'refresh-sse', { status: 'completed' });
      await api(server.url, 'POST', '/api/v1/notifications', { user_id: 'gina', title: 'still here', message: '' }, WORKER_TOKEN());
      await Promise.all([ws.done, sse.done]);
      await waitFor(() => notifications.some((n) => n.title === 'still here') && deck.state.unsyncedChanges === 0, 5000, 'notification and ack');

      expect(errors).toEqual([]);
      // The document and the WebSockets stayed connected throughout (the server took `auth` / token sync)…
      expect(states.filter((s) => s.status === 'disconnected')).toEqual([]);
      expect(wsStatuses.filter((s) => s.state === 'open')).toHaveLength(1);
      expect(notificationStatuses.filter((s) => s.state === 'open')).toHaveLength(1);
      // …and the SSE stream, which the server ends at each expiry, resumed each time without a gap or a repeat.
      expect(sseEvents.map((e) => e.data.progress)).toEqual([0, 0.25, 1]);
      expect(wsEvents.map((e) => e.data.progress)).toEqual([0, 1]);
    } finally {
      client.destroy();
    }
  });
});
