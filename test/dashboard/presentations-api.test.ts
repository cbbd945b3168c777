/**
 * Presentations for dashboards, through real HTTP, Hocuspocus providers and the notifications socket:
 * GET /presentations (mine, with my role, newest first, paged) and DELETE /presentations/{id} (connections closed,
 * every row gone, the id not re-created by an editor that reconnects).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertSlide } from '../../shared/presentation.js';
import { openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase, queryDb } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { adminToken, call, notificationsWs } from '../realtime/support.js';

describe('presentations API for dashboards', () => {
  let server: TestServer;
  let databaseUrl: string;
  const clients: CollabClient[] = [];
  const sockets: JsonWsClient[] = [];

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('presapi');
    // AUTO_CREATE_PRESENTATIONS on (the dev default): a deleted id must still not come back on open.
    server = await startServer({ DATABASE_URL: databaseUrl, AUTO_CREATE_PRESENTATIONS: 'true', AUTO_NOTIFICATIONS: 'none' });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const s of sockets) s.close();
    await server?.close();
  });

  const api = (method: string, path: string, user: string | null, body?: unknown) =>
    call(server.url, method, `/api/v1${path}`, { token: user === null ? undefined : user === 'admin' ? adminToken() : mintToken(user), body });
  const editor = (presentationId: string, user: string) => {
    const client = openClient({ url: server.wsUrl, presentationId, token: mintToken(user) });
    clients.push(client);
    return client;
  };
  const ws = async (user: string) => {
    const client = await openJsonWs(notificationsWs(server.url, mintToken(user)));
    sockets.push(client);
    await client.waitForType('connected');
    return client;
  };
  const rowsOf = async (id: string) => ({
    presentations: (await queryDb(databaseUrl, 'SELECT 1 FROM presentations WHERE id = $1', [id])).length,
    members: (await queryDb(databaseUrl, 'SELECT 1 FROM presentation_members WHERE presentation_id = $1', [id])).length,
    documents: (await queryDb(databaseUrl, 'SELECT 1 FROM documents WHERE name = $1', [`presentation:${id}`])).length,
    updates: (await queryDb(databaseUrl, 'SELECT 1 FROM document_updates WHERE name = $1', [`presentation:${id}`])).length,
    clients: (await queryDb(databaseUrl, 'SELECT 1 FROM document_clients WHERE name = $1', [`presentation:${id}`])).length,
  });

  it('GET /presentations: mine with my role, newest first, paged; updated_at follows title, members and edits', async () => {
    for (const id of ['olga-1', 'olga-2', 'olga-3'])
      expect((await api('PUT', `/presentations/${id}`, 'olga', { title: `Deck ${id}` })).status).toBe(201);
    await api('PUT', '/presentations/pia-1', 'pia', { title: 'Pia’s deck' });
    await api('PUT', '/presentations/pia-1/members/olga', 'pia', { role: 'viewer' });
    await api('PUT', '/presentations/pia-2', 'pia');

    const mine = await api('GET', '/presentations', 'olga');
    expect(mine.status).toBe(200);
    expect(mine.body.presentations.map((p: any) => [p.id, p.role])).toEqual([
      ['pia-1', 'viewer'],
      ['olga-3', 'owner'],
      ['olga-2', 'owner'],
      ['olga-1', 'owner'],
    ]);
    expect(mine.body.next_cursor).toBeNull();
    expect(mine.body.presentations[0]).toEqual({
      id: 'pia-1',
      title: 'Pia’s deck',
      role: 'viewer',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });

    const first = await api('GET', '/presentations?limit=3', 'olga');
    expect(first.body.presentations.map((p: any) => p.id)).toEqual(['pia-1', 'olga-3', 'olga-2']);
    const second = await api('GET', `/presentations?limit=3&cursor=${first.body.next_cursor}`, 'olga');
    expect(second.body).toEqual({ presentations: [expect.objectContaining({ id: 'olga-1' })], next_cursor: null });
    expect((await api('GET', '/presentations', 'nobody')).body).toEqual({ presentations: [], next_cursor: null });

    // An edit through a provider moves updated_at past created_at (the stored document's last change).
    const before = (await api('GET', '/presentations', 'olga')).body.presentations.find((p: any) => p.id === 'olga-2');
    expect(before.updated_at).toBe(before.created_at);
    const client = editor('olga-2', 'olga');
    await waitSynced(client);
    insertSlide(client.doc, { id: 's1', title: 'Hello' });
    await waitAcked(client);
    const after = (await api('GET', '/presentations', 'olga')).body.presentations.find((p: any) => p.id === 'olga-2');
    expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(after.created_at));
  });

  it('GET /presentations: bad input is 400 with a code; no token is 401', async () => {
    for (const query of ['?limit=0', '?limit=101', '?cursor=%25%25', `?cursor=${Buffer.from('[1,2]').toString('base64url')}`]) {
      const res = await api('GET', `/presentations${query}`, 'olga');
      expect(res.status, query).toBe(400);
      expect(res.body.error_code).toBe('INVALID_MESSAGE');
    }
    expect((await api('GET', '/presentations', null)).status).toBe(401);
  });

  it('DELETE /presentations/{id}: connections closed and told why, rows gone, members and watchers told; not re-created on open', async () => {
    await api('PUT', '/presentations/doomed', 'olga', { title: 'Doomed' });
    await api('PUT', '/presentations/doomed/members/ravi', 'olga', { role: 'editor' });
    const ravi = editor('doomed', 'ravi');
    await waitSynced(ravi);
    insertSlide(ravi.doc, { id: 'a', title: 'kept until deleted' });
    await waitAcked(ravi);
    const watcher = await ws('olga');
    watcher.send({ type: 'subscribe_channel', channel: 'presence.doomed' });
    await watcher.waitFor((m) => m.type === 'subscribed');
    const raviSocket = await ws('ravi');
    raviSocket.send({ type: 'subscribe_channel', channel: 'presence.doomed' });
    await raviSocket.waitFor((m) => m.type === 'subscribed');
    expect((await rowsOf('doomed')).updates).toBeGreaterThan(0);
    expect((await rowsOf('doomed')).clients).toBeGreaterThan(0); // the editor's Yjs client id, claimed by its first write

    const res = await api('DELETE', '/presentations/doomed', 'olga');
    expect(res.status).toBe(204);
    expect(await rowsOf('doomed')).toEqual({ presentations: 0, members: 0, documents: 0, updates: 0, clients: 0 });
    await waitFor(() => ravi.stateless.some((m: any) => m?.error_code === 'NOT_FOUND'), 5000, 'the editor told NOT_FOUND');
    await waitFor(() => !ravi.provider.isSynced, 5000, 'the editor closed');
    expect(await watcher.waitFor((m) => m.type === 'presentation_deleted')).toMatchObject({ presentation_id: 'doomed', deleted_by: 'olga' });
    expect(await raviSocket.waitFor((m) => m.type === 'presentation_deleted')).toMatchObject({ presentation_id: 'doomed' });
    // A former member's subscription to the presentation's channel ends, as a removal would end it.
    await raviSocket.waitFor((m) => m.type === 'unsubscribed' && m.channel === 'presence.doomed');
    expect((await api('GET', '/presentations/doomed', 'olga')).status).toBe(404);
    expect((await api('GET', '/presentations', 'ravi')).body.presentations).toEqual([]);

    // The editor's document (and anyone else's) opening it again does not bring it back, even with auto-create.
    const reopened = editor('doomed', 'ravi');
    await waitFor(() => reopened.authFailures.length > 0, 5000, 'refused');
    const again = editor('doomed', 'olga');
    await waitFor(() => again.authFailures.length > 0, 5000, 'refused');
    expect(await rowsOf('doomed')).toEqual({ presentations: 0, members: 0, documents: 0, updates: 0, clients: 0 });

    // An explicit create makes a new, empty presentation.
    expect((await api('PUT', '/presentations/doomed', 'pia')).status).toBe(201);
    const fresh = editor('doomed', 'pia');
    await waitSynced(fresh);
    expect(fresh.doc.getArray('slides').length).toBe(0);
  });

  it('DELETE /presentations/{id}: owner or admin only; a stranger 403, a missing one 404, a bad id 400', async () => {
    await api('PUT', '/presentations/guarded', 'olga');
    await api('PUT', '/presentations/guarded/members/eddie', 'olga', { role: 'editor' });
    for (const user of ['eddie', 'stranger']) {
      const res = await api('DELETE', '/presentations/guarded', user);
      expect(res.status, user).toBe(403);
      expect(res.body.error_code).toBe('PERMISSION_DENIED');
    }
    expect((await api('DELETE', '/presentations/guarded', null)).status).toBe(401);
    const bad = await api('DELETE', '/presentations/bad%20id', 'olga');
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('INVALID_MESSAGE');
    const missing = await api('DELETE', '/presentations/never-was', 'olga');
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('NOT_FOUND');
    expect((await rowsOf('guarded')).presentations).toBe(1);

    expect((await api('DELETE', '/presentations/guarded', 'admin')).status).toBe(204);
    expect((await api('DELETE', '/presentations/guarded', 'olga')).status).toBe(404);
  });

  it('every table that references presentations cascades on delete', async () => {
    const foreignKeys = await queryDb<{ table_name: string; delete_rule: string }>(
      databaseUrl,
      `SELECT kcu.table_name, rc.delete_rule
       FROM information_schema.referential_constraints rc
       JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = rc.constraint_name
       JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = rc.constraint_name
       WHERE ccu.table_name = 'presentations'`,
    );
    expect(foreignKeys.map((fk) => fk.table_name)).toContain('presentation_members');
    for (const fk of foreignKeys) expect(fk, fk.table_name).toMatchObject({ delete_rule: 'CASCADE' });
  });
});
