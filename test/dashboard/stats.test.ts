/**
 * GET /realtime/stats carries the seed's fields next to Deckhand's own: active_users, job_subscribers, channels,
 * notification_history_size and total_edit_operations, counted from real connections of every kind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertSlide } from '../../shared/presentation.js';
import { openClient, waitAcked, waitSynced } from '../helpers/collab-client.js';
import { createTestDatabase } from '../helpers/database.js';
import { openJsonWs } from '../helpers/json-ws.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { openSse } from '../helpers/sse.js';
import { adminToken, call, createJob, generationSse, generationWs, notificationsWs, notify } from '../realtime/support.js';

describe('GET /realtime/stats: the seed’s fields', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('seedstats'), AUTO_NOTIFICATIONS: 'none' });
  });
  afterAll(async () => server?.close());

  const stats = async () => {
    const res = await call(server.url, 'GET', '/api/v1/realtime/stats', { token: adminToken() });
    expect(res.status).toBe(200);
    return res.body;
  };
  const seedFields = (body: any) => ({
    active_users: body.active_users,
    job_subscribers: body.job_subscribers,
    channels: body.channels,
    notification_history_size: body.notification_history_size,
    total_edit_operations: body.total_edit_operations,
  });

  it('counts users, job followers, channels, stored notifications and edits; back to zero when everyone leaves', async () => {
    expect(seedFields(await stats())).toEqual({
      active_users: 0,
      job_subscribers: 0,
      channels: 0,
      notification_history_size: 0,
      total_edit_operations: 0,
    });

    const first = await createJob(server.url, { user_id: 'ann' });
    const second = await createJob(server.url, { user_id: 'ann' });
    const jobSocket = await openJsonWs(generationWs(server.url, first.job_id, mintToken('ann')));
    await jobSocket.waitForType('job_progress');
    jobSocket.send({ type: 'subscribe_job', job_id: second.job_id });
    await jobSocket.waitFor((m) => m.type === 'job_progress' && m.job_id === second.job_id);
    const jobStream = await openSse(generationSse(server.url, first.job_id, mintToken('ben', { scope: 'jobs:write' })));
    await jobStream.waitForCount(1);
    const inbox = await openJsonWs(notificationsWs(server.url, mintToken('cat')));
    await inbox.waitForType('connected');
    const editor = openClient({ url: server.wsUrl, presentationId: 'stats-deck', token: mintToken('dan') });
    await waitSynced(editor);
    for (const id of ['s1', 's2', 's3']) {
      insertSlide(editor.doc, { id, title: id });
      await waitAcked(editor);
    }
    await notify(server.url, { user_id: 'cat', title: 'one' });
    await notify(server.url, { channel: 'general', title: 'two' });
    await inbox.waitFor((m) => m.title === 'two');

    const body = await stats();
    expect(seedFields(body)).toEqual({
      active_users: 4, // ann (job socket), ben (job SSE), cat (notifications), dan (collaboration)
      job_subscribers: 3, // the socket's two jobs and the stream's one
      channels: 4, // jobs.{first}, jobs.{second}, general, user.cat
      notification_history_size: 2,
      total_edit_operations: 3,
    });
    // Next to what was there.
    expect(body).toMatchObject({ documents: 1, sse_streams: 1, managers: { generation: { connections: 2 }, notifications: { connections: 1 } } });

    jobSocket.close();
    jobStream.close();
    inbox.close();
    editor.destroy();
    await expect.poll(async () => seedFields(await stats()), { timeout: 5000 }).toMatchObject({ active_users: 0, job_subscribers: 0, channels: 0 });
  });

  it('is for admin tokens only', async () => {
    expect((await call(server.url, 'GET', '/api/v1/realtime/stats', { token: mintToken('ann') })).status).toBe(403);
    expect((await call(server.url, 'GET', '/api/v1/realtime/stats')).status).toBe(401);
  });
});
