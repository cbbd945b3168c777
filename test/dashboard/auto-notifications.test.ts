/**
 * Automatic notifications and membership messages on one instance, through real HTTP, providers and the
 * notifications socket: a job that ends, being added to a presentation, an @mention in a new comment; each kind
 * turned off by AUTO_NOTIFICATIONS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addComment } from '../../shared/presentation.js';
import { openClient, waitAcked, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase, queryDb } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { call, createJob, notificationsWs, notify, postProgress } from '../realtime/support.js';

describe('automatic notifications', () => {
  let server: TestServer;
  let quiet: TestServer;
  let databaseUrl: string;
  const clients: CollabClient[] = [];
  const sockets: JsonWsClient[] = [];

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('autonotif');
    server = await startServer({ DATABASE_URL: databaseUrl });
    quiet = await startServer({ DATABASE_URL: await createTestDatabase('autonone'), AUTO_NOTIFICATIONS: 'job' });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const s of sockets) s.close();
    await Promise.all([server?.close(), quiet?.close()]);
  });

  const ws = async (on: TestServer, user: string) => {
    const client = await openJsonWs(notificationsWs(on.url, mintToken(user, { name: user.toUpperCase() })));
    sockets.push(client);
    await client.waitForType('connected');
    return client;
  };
  const editor = (on: TestServer, presentationId: string, user: string) => {
    const client = openClient({ url: on.wsUrl, presentationId, token: mintToken(user, { name: user.toUpperCase() }) });
    clients.push(client);
    return client;
  };
  const stored = async (on: TestServer, user: string) =>
    (await call(on.url, 'GET', '/api/v1/notifications?limit=200', { token: mintToken(user) })).body.notifications as any[];
  const api = (on: TestServer, method: string, path: string, user: string, body?: unknown) =>
    call(on.url, method, `/api/v1${path}`, { token: mintToken(user, { name: user.toUpperCase() }), body });

  it('a job that completes or fails notifies its user (category = kind, job_id, presentation_id); a cancel does not', async () => {
    const live = await ws(server, 'jo');
    const done = await createJob(server.url, { user_id: 'jo', kind: 'generate', title: 'Q3 deck' });
    await postProgress(server.url, done.job_id, { status: 'completed', message: '12 slides', result: { presentation_id: 'deck-9' } });
    const completed = await live.waitFor((m) => m.type === 'notification' && m.data.job_id === done.job_id);
    expect(completed).toMatchObject({
      channel: 'user_jo',
      notification_type: 'success',
      title: 'Q3 deck completed',
      message: '12 slides',
      category: 'generate',
      data: { job_id: done.job_id, presentation_id: 'deck-9', status: 'completed' },
      read: false,
    });

    const broken = await createJob(server.url, { user_id: 'jo', kind: 'export' });
    await postProgress(server.url, broken.job_id, { status: 'failed', error: { message: 'renderer crashed' } });
    const failed = await live.waitFor((m) => m.type === 'notification' && m.data.job_id === broken.job_id);
    expect(failed).toMatchObject({
      notification_type: 'error',
      title: 'export failed',
      message: 'renderer crashed',
      category: 'export',
      priority: 'high',
    });
    expect(failed.data).not.toHaveProperty('presentation_id');

    const dropped = await createJob(server.url, { user_id: 'jo', kind: 'export' });
    await call(server.url, 'POST', `/api/v1/jobs/${dropped.job_id}/cancel`, { token: mintToken('jo') });
    // The terminal report is answered once its notification is stored: the list is complete now.
    const jobNotes = (await stored(server, 'jo')).filter((n) => n.data?.job_id);
    expect(jobNotes.map((n) => n.data.job_id).sort()).toEqual([done.job_id, broken.job_id].sort());
  });

  it('being added notifies the member (share); every member change reaches the member and the presence channel', async () => {
    await api(server, 'PUT', '/presentations/shared-deck', 'olga', { title: 'Roadmap' });
    const ravi = await ws(server, 'ravi');
    const watcher = await ws(server, 'olga');
    watcher.send({ type: 'subscribe_channel', channel: 'presence.shared-deck' });
    await watcher.waitFor((m) => m.type === 'subscribed');

    await api(server, 'PUT', '/presentations/shared-deck/members/ravi', 'olga', { role: 'editor' });
    const added = await ravi.waitFor((m) => m.type === 'membership');
    expect(added).toMatchObject({ presentation_id: 'shared-deck', user_id: 'ravi', role: 'editor', previous_role: null, changed_by: 'olga' });
    const share = await ravi.waitFor((m) => m.type === 'notification' && m.category === 'share');
    expect(share).toMatchObject({
      title: 'OLGA shared “Roadmap” with you',
      data: { presentation_id: 'shared-deck', role: 'editor', shared_by: 'olga' },
    });
    await watcher.waitFor((m) => m.type === 'membership' && m.user_id === 'ravi' && m.role === 'editor');

    await api(server, 'PUT', '/presentations/shared-deck/members/ravi', 'olga', { role: 'viewer' });
    await ravi.waitFor((m) => m.type === 'membership' && m.role === 'viewer' && m.previous_role === 'editor');
    await api(server, 'PUT', '/presentations/shared-deck/members/ravi', 'olga', { role: 'viewer' }); // unchanged: nothing
    await api(server, 'DELETE', '/presentations/shared-deck/members/ravi', 'olga');
    await ravi.waitFor((m) => m.type === 'membership' && m.role === null && m.previous_role === 'viewer');
    await watcher.waitFor((m) => m.type === 'membership' && m.user_id === 'ravi' && m.role === null);
    expect(ravi.messages.filter((m) => m.type === 'membership').map((m) => m.role)).toEqual(['editor', 'viewer', null]);
    // One share notification, for being added; none for the role change or the removal.
    expect((await stored(server, 'ravi')).filter((n) => n.category === 'share')).toHaveLength(1);
    // The creator is not notified of its own presentation.
    expect((await stored(server, 'olga')).filter((n) => n.category === 'share')).toHaveLength(0);
  });

  it('@user_id in a new comment notifies that member once: not strangers, not the author', async () => {
    await api(server, 'PUT', '/presentations/review', 'olga', { title: 'Review' });
    await api(server, 'PUT', '/presentations/review/members/cora', 'olga', { role: 'commenter' });
    await api(server, 'PUT', '/presentations/review/members/max', 'olga', { role: 'viewer' });
    const olga = await ws(server, 'olga');
    const cora = editor(server, 'review', 'cora');
    await waitSynced(cora);
    addComment(cora.doc, 's1', { id: 'c1', author: 'cora', text: 'Hi @olga, see @max. Also @stranger and me @cora; mail ann@olga.com' });
    await waitAcked(cora);
    const note = await olga.waitFor((m) => m.type === 'notification' && m.category === 'comment');
    expect(note).toMatchObject({
      title: 'CORA mentioned you in “Review”',
      message: 'Hi @olga, see @max. Also @stranger and me @cora; mail ann@olga.com',
      data: { presentation_id: 'review', slide_id: 's1', comment_id: 'c1', author: 'cora' },
    });
    // The same send reached max; nobody else.
    expect((await stored(server, 'max')).filter((n) => n.category === 'comment')).toHaveLength(1);
    expect(await stored(server, 'stranger')).toEqual([]);
    expect((await stored(server, 'cora')).filter((n) => n.category === 'comment')).toHaveLength(0);

    // A reply in the same thread notifies again; editing an old comment's other fields does not.
    addComment(cora.doc, 's1', { id: 'c2', author: 'cora', text: '@olga ping' });
    (cora.doc.getMap('comments').get('s1') as any).get(0).set('resolved', true);
    await waitAcked(cora);
    await olga.waitFor((m) => m.type === 'notification' && m.data?.comment_id === 'c2');
    const rows = await queryDb<{ n: string }>(databaseUrl, "SELECT count(*) AS n FROM notifications WHERE user_id = 'olga' AND category = 'comment'");
    expect(Number(rows[0]!.n)).toBe(2);
  });

  it('AUTO_NOTIFICATIONS turns kinds off: with `job` only, no share and no mention notifications', async () => {
    const live = await ws(quiet, 'nina');
    await api(quiet, 'PUT', '/presentations/silent', 'olga');
    await api(quiet, 'PUT', '/presentations/silent/members/nina', 'olga', { role: 'commenter' });
    await live.waitFor((m) => m.type === 'membership');
    const olgaClient = editor(quiet, 'silent', 'olga');
    await waitSynced(olgaClient);
    addComment(olgaClient.doc, 's1', { id: 'c1', author: 'olga', text: '@nina have a look' });
    await waitAcked(olgaClient);
    // A job that ends still notifies (the kind left on), after everything above.
    const { job_id: jobId } = await createJob(quiet.url, { user_id: 'nina' });
    await postProgress(quiet.url, jobId, { status: 'completed' });
    await notify(quiet.url, { user_id: 'nina', title: 'marker' });
    await live.waitFor((m) => m.type === 'notification' && m.title === 'marker');
    expect(live.messages.filter((m) => m.type === 'notification').map((m) => m.category)).toEqual(['render', null]);
  });
});
