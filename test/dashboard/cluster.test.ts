/**
 * Two instances sharing Postgres and Redis: a comment's @mention notifies once (on the instance that stored it, not
 * on the one that received it through Redis); a presentation deleted on A closes its editors on B and leaves no rows
 * behind (not even what B's closing copy stored); member changes made on A reach the member's socket on B.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addComment, insertSlide } from '../../shared/presentation.js';
import { openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { startPair, type TestPair } from '../helpers/cluster.js';
import { queryDb } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, type TestServer } from '../helpers/server.js';
import { call, notificationsWs } from '../realtime/support.js';

describe('dashboard features on two instances', () => {
  let pair: TestPair;
  const clients: CollabClient[] = [];
  const sockets: JsonWsClient[] = [];

  beforeAll(async () => {
    pair = await startPair('dashcluster');
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const s of sockets) s.close();
    await pair?.close();
  });

  const api = (on: TestServer, method: string, path: string, user: string, body?: unknown) =>
    call(on.url, method, `/api/v1${path}`, { token: mintToken(user), body });
  const editor = (on: TestServer, presentationId: string, user: string) => {
    const client = openClient({ url: on.wsUrl, presentationId, token: mintToken(user) });
    clients.push(client);
    return client;
  };
  const ws = async (on: TestServer, user: string) => {
    const client = await openJsonWs(notificationsWs(on.url, mintToken(user)));
    sockets.push(client);
    await client.waitForType('connected');
    return client;
  };
  const count = async (sql: string, params: unknown[]) => Number((await queryDb<{ n: string }>(pair.databaseUrl, sql, params))[0]!.n);

  it('a mention is notified once, though the comment reaches both instances', async () => {
    await api(pair.a, 'PUT', '/presentations/both', 'olga', { title: 'Both' });
    await api(pair.a, 'PUT', '/presentations/both/members/cora', 'olga', { role: 'commenter' });
    const onA = editor(pair.a, 'both', 'olga');
    const onB = editor(pair.b, 'both', 'cora');
    await Promise.all([waitSynced(onA), waitSynced(onB)]);
    const olga = await ws(pair.a, 'olga');

    for (const id of ['c1', 'c2', 'c3']) {
      addComment(onB.doc, 's1', { id, author: 'cora', text: `@olga comment ${id}` });
      await waitAcked(onB);
      await waitFor(() => JSON.stringify(onA.doc.getMap('comments').toJSON()).includes(id), 5000, `${id} on A`);
      await olga.waitFor((m) => m.type === 'notification' && m.data?.comment_id === id, 5000, `notification for ${id}`);
    }
    const rows = await queryDb<{ comment: string; n: string }>(
      pair.databaseUrl,
      "SELECT data->>'comment_id' AS comment, count(*) AS n FROM notifications WHERE user_id = 'olga' AND category = 'comment' GROUP BY 1 ORDER BY 1",
    );
    expect(rows.map((r) => [r.comment, Number(r.n)])).toEqual([
      ['c1', 1],
      ['c2', 1],
      ['c3', 1],
    ]);
  });

  it('DELETE on A closes the editors on B; no row is left behind on either', async () => {
    await api(pair.a, 'PUT', '/presentations/gone', 'olga');
    await api(pair.a, 'PUT', '/presentations/gone/members/bert', 'olga', { role: 'editor' });
    const bert = editor(pair.b, 'gone', 'bert');
    await waitSynced(bert);
    insertSlide(bert.doc, { id: 's1', title: 'typed on B' });
    await waitAcked(bert);
    expect(await count('SELECT count(*) AS n FROM document_updates WHERE name = $1', ['presentation:gone'])).toBeGreaterThan(0);

    expect((await api(pair.a, 'DELETE', '/presentations/gone', 'olga')).status).toBe(204);
    await waitFor(() => bert.stateless.some((m: any) => m?.error_code === 'NOT_FOUND'), 5000, 'B’s editor told');
    await waitFor(() => !pair.b.app.deckhand.collab.hocuspocus.documents.has('presentation:gone'), 10_000, 'unloaded on B');
    // B's copy may have stored a compaction as it left memory: B's cleanup removes it.
    await expect
      .poll(
        async () => [
          await count('SELECT count(*) AS n FROM documents WHERE name = $1', ['presentation:gone']),
          await count('SELECT count(*) AS n FROM document_updates WHERE name = $1', ['presentation:gone']),
          await count('SELECT count(*) AS n FROM presentations WHERE id = $1', ['gone']),
        ],
        { timeout: 10_000 },
      )
      .toEqual([0, 0, 0]);
    expect(await api(pair.b, 'GET', '/presentations/gone', 'olga')).toMatchObject({ status: 404 });
  });

  it('member changes made on A reach the member’s socket on B', async () => {
    await api(pair.a, 'PUT', '/presentations/team', 'olga', { title: 'Team' });
    const dan = await ws(pair.b, 'dan');
    await api(pair.a, 'PUT', '/presentations/team/members/dan', 'olga', { role: 'viewer' });
    expect(await dan.waitFor((m) => m.type === 'membership')).toMatchObject({ presentation_id: 'team', role: 'viewer', previous_role: null });
    expect(await dan.waitFor((m) => m.type === 'notification' && m.category === 'share')).toMatchObject({ data: { presentation_id: 'team' } });
  });
});
