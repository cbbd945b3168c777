import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobEvent, LiveStatus, NotificationMessage } from '../../client/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startProxy, type TestProxy } from './proxy.js';
import { api, createJob, destroyClients, reportProgress, sdkClient, waitFor, WORKER_TOKEN } from './support.js';

const progressOf = (events: JobEvent[]) => events.map((e) => e.data.progress);
const opens = (statuses: LiveStatus[]) => statuses.filter((s) => s.state === 'open').length;

describe('SDK: following jobs and notifications through network trouble', () => {
  let server: TestServer;
  let proxy: TestProxy;

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('sdkjobs') });
  });
  beforeEach(async () => {
    await proxy?.close();
    proxy = await startProxy(server.url);
  });
  afterAll(async () => {
    destroyClients();
    await proxy?.close();
    await server?.close();
  });

  /** Cuts every connection, keeps the server unreachable while `meanwhile` runs, then lets the client back. */
  async function outage(statuses: LiveStatus[], meanwhile: () => Promise<void>) {
    const before = opens(statuses);
    proxy.blocked = true;
    proxy.dropAll();
    await waitFor(() => statuses.at(-1)?.state === 'reconnecting', 5000, 'the client noticed the drop');
    await meanwhile();
    proxy.blocked = false;
    await waitFor(() => opens(statuses) > before, 5000, 'reconnected');
  }

  it('SSE: resumes from the last event id after a drop — every state once, in order', async () => {
    await createJob(server.url, 'resume-sse', 'carol');
    const events: JobEvent[] = [];
    const statuses: LiveStatus[] = [];
    const follower = sdkClient(proxy.url, 'carol').followJob('resume-sse', (e) => events.push(e), {
      transport: 'sse',
      onStatus: (s) => statuses.push(s),
    });
    await waitFor(() => events.length === 1, 5000, 'current state');
    for (const progress of [0.1, 0.2]) await reportProgress(server.url, 'resume-sse', { status: 'processing', progress });
    await waitFor(() => follower.state?.progress === 0.2, 5000, '0.2');

    await outage(statuses, async () => {
      for (const progress of [0.3, 0.4, 0.5]) await reportProgress(server.url, 'resume-sse', { status: 'processing', progress });
    });
    await reportProgress(server.url, 'resume-sse', { status: 'processing', progress: 0.6, current_step: 'polishing' });
    await reportProgress(server.url, 'resume-sse', { status: 'completed' });

    expect(await follower.done).toMatchObject({ status: 'completed', progress: 1 });
    expect(progressOf(events)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 1]);
    expect(events.every((e) => e.type === 'job_progress')).toBe(true);
    expect(follower.transport).toBe('sse');
    expect(statuses.at(-1)?.state).toBe('stopped');
  });

  it('WebSocket: resumes from the last event id after a drop — every state once, in order', async () => {
    await createJob(server.url, 'resume-ws', 'carol');
    const events: JobEvent[] = [];
    const statuses: LiveStatus[] = [];
    const follower = sdkClient(proxy.url, 'carol').followJob('resume-ws', (e) => events.push(e), {
      transport: 'websocket',
      onStatus: (s) => statuses.push(s),
    });
    await waitFor(() => events.length === 1, 5000, 'current state');
    await reportProgress(server.url, 'resume-ws', { status: 'processing', progress: 0.2 });
    await waitFor(() => follower.state?.progress === 0.2, 5000, '0.2');

    // Nothing changes during the first outage: nothing is replayed, nothing repeated.
    await outage(statuses, async () => {});
    await reportProgress(server.url, 'resume-ws', { status: 'processing', progress: 0.3 });
    await waitFor(() => follower.state?.progress === 0.3, 5000, '0.3');
    // Two updates during the second: both are replayed, in order.
    await outage(statuses, async () => {
      for (const progress of [0.4, 0.5]) await reportProgress(server.url, 'resume-ws', { status: 'processing', progress });
    });
    await reportProgress(server.url, 'resume-ws', { status: 'completed' });

    expect(await follower.done).toMatchObject({ status: 'completed' });
    expect(progressOf(events)).toEqual([0, 0.2, 0.3, 0.4, 0.5, 1]);
    expect(events.every((e) => e.type === 'job_progress')).toBe(true);
    expect(follower.transport).toBe('websocket');
  });

  it('falls back to SSE when WebSockets are refused, for jobs and for notifications', async () => {
    proxy.refuseWebSockets = true;
    await createJob(server.url, 'fallback', 'dave');
    const client = sdkClient(proxy.url, 'dave');
    const events: JobEvent[] = [];
    const follower = client.followJob('fallback', (e) => events.push(e));
    const notifications: NotificationMessage[] = [];
    const transports: LiveStatus[] = [];
    client.notifications.onStatus((s) => transports.push(s));
    client.notifications.subscribe((n) => notifications.push(n));

    await waitFor(() => events.length === 1, 5000, 'current state over SSE');
    expect(follower.transport).toBe('sse');
    await waitFor(() => transports.some((s) => s.state === 'open' && s.transport === 'sse'), 5000, 'notifications over SSE');
    await reportProgress(server.url, 'fallback', { status: 'processing', progress: 0.5 });
    const sent = await api(server.url, 'POST', '/api/v1/notifications', { user_id: 'dave', title: 'Deck ready', message: 'go' }, WORKER_TOKEN());
    expect(sent.status).toBe(201);
    await waitFor(() => follower.state?.progress === 0.5 && notifications.length === 1, 5000, 'live over SSE');
    expect(notifications[0]).toMatchObject({ title: 'Deck ready', channel: 'user_dave', read: false, data: {} });

    // Marked read (REST) and listed: the live notification is not delivered again on a reconnection.
    await client.notifications.markRead(notifications[0]!.id);
    expect((await client.notifications.list({ unread: true })).unread_count).toBe(0);
    proxy.dropAll();
    await api(server.url, 'POST', '/api/v1/notifications', { user_id: 'dave', title: 'Second', message: '' }, WORKER_TOKEN());
    await waitFor(() => notifications.length === 2, 5000, 'second notification');
    expect(notifications.map((n) => n.title)).toEqual(['Deck ready', 'Second']);
  });

  it('stops with NOT_FOUND for a job that does not exist', async () => {
    const errors: string[] = [];
    const follower = sdkClient(server.url, 'erin').followJob('no-such-job', () => {}, { onError: (e, fatal) => errors.push(`${e.code}:${fatal}`) });
    await expect(follower.done).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(errors).toEqual(['NOT_FOUND:true']);
  });
});
