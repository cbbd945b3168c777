/**
 * The SDK's dashboard calls against a real server: listing and cancelling jobs (a follower sees `cancelled`),
 * marking every notification read and deleting one, with the other tab told of each; listing and deleting
 * presentations (an open session is told).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent, NotificationMessage } from '../../client/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { api, createJob, destroyClients, reportProgress, sdkClient, waitFor, WORKER_TOKEN } from './support.js';

describe('SDK: dashboard calls', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('sdkdash'), AUTO_NOTIFICATIONS: 'none' });
  });
  afterAll(async () => {
    destroyClients();
    await server?.close();
  });

  it('listJobs pages the user’s jobs; cancelJob ends one and its follower sees `cancelled`', async () => {
    for (const id of ['dash-1', 'dash-2', 'dash-3']) await createJob(server.url, id, 'hana');
    await reportProgress(server.url, 'dash-2', { status: 'processing', progress: 0.2 });
    const client = sdkClient(server.url, 'hana');
    const first = await client.listJobs({ limit: 2 });
    expect(first.jobs.map((j) => j.job_id)).toEqual(['dash-3', 'dash-2']);
    const rest = await client.listJobs({ limit: 2, cursor: first.next_cursor! });
    expect(rest).toEqual({ jobs: [expect.objectContaining({ job_id: 'dash-1' })], next_cursor: null });
    expect((await client.listJobs({ status: 'processing' })).jobs.map((j) => j.job_id)).toEqual(['dash-2']);

    const events: JobEvent[] = [];
    const follower = client.followJob('dash-2', (e) => events.push(e));
    await waitFor(() => events.length === 1, 5000, 'current state');
    const cancelled = await client.cancelJob('dash-2', 'not needed');
    expect(cancelled).toMatchObject({ status: 'cancelled', message: 'not needed' });
    expect(await follower.done).toMatchObject({ status: 'cancelled', kind: 'generation' });
    await expect(client.cancelJob('dash-2')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(sdkClient(server.url, 'mallory').cancelJob('dash-1')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('markAllRead and remove: the other tab hears both', async () => {
    const sent = await api(server.url, 'POST', '/api/v1/notifications', { user_id: 'ivo', title: 'one', message: '' }, WORKER_TOKEN());
    await api(server.url, 'POST', '/api/v1/notifications', { user_id: 'ivo', title: 'two', message: '' }, WORKER_TOKEN());
    const tab = sdkClient(server.url, 'ivo');
    const seen: NotificationMessage[] = [];
    const readAll: number[] = [];
    const deleted: string[] = [];
    tab.notifications.subscribe((n) => seen.push(n));
    tab.notifications.onReadAll((n) => readAll.push(n));
    tab.notifications.onDeleted((id) => deleted.push(id));
    await waitFor(() => seen.length === 2, 5000, 'two unread');

    const other = sdkClient(server.url, 'ivo');
    expect(await other.notifications.markAllRead()).toBe(2);
    await waitFor(() => readAll.length === 1, 5000, 'read-all heard');
    expect(readAll).toEqual([2]);
    await other.notifications.remove(sent.body.notifications[0].id);
    await waitFor(() => deleted.length === 1, 5000, 'deletion heard');
    expect(deleted).toEqual([sent.body.notifications[0].id]);
    await expect(other.notifications.remove(sent.body.notifications[0].id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await other.notifications.list()).notifications.map((n) => n.title)).toEqual(['two']);
  });

  it('presentations.list pages the user’s presentations with roles; presentations.delete closes an open session', async () => {
    await api(server.url, 'PUT', '/api/v1/presentations/sdk-a', { title: 'A' }, mintToken('jan'));
    await api(server.url, 'PUT', '/api/v1/presentations/sdk-b', {}, mintToken('kai'));
    await api(server.url, 'PUT', '/api/v1/presentations/sdk-b/members/jan', { role: 'editor' }, mintToken('kai'));
    const jan = sdkClient(server.url, 'jan');
    const first = await jan.presentations.list({ limit: 1 });
    expect(first.presentations).toEqual([expect.objectContaining({ id: 'sdk-b', role: 'editor', title: null })]);
    const rest = await jan.presentations.list({ cursor: first.next_cursor! });
    expect(rest).toEqual({ presentations: [expect.objectContaining({ id: 'sdk-a', role: 'owner', title: 'A' })], next_cursor: null });

    const session = jan.openPresentation('sdk-a');
    const errors: string[] = [];
    session.onError((e) => errors.push(e.code));
    await session.whenSynced();
    await expect(jan.presentations.delete('sdk-b')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await jan.presentations.delete('sdk-a');
    await waitFor(() => errors.includes('NOT_FOUND'), 5000, 'the session told');
    expect((await jan.presentations.list()).presentations.map((p) => p.id)).toEqual(['sdk-b']);
  });
});
