/**
 * Versions on one instance, through real clients: HTTP for the API, @hocuspocus/provider editors for the document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSlide, getMeta, getSlides, slideText } from '../../shared/presentation.js';
import { createTestDatabase, queryDb } from '../helpers/database.js';
import { waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { api, createDeck, opener, plain, waitForLock } from './support.js';

const title = (c: CollabClient, slideId: string) => slideText(findSlide(c.doc, slideId)!, 'title').toString();
const setTitle = (c: CollabClient, slideId: string, text: string) => {
  const t = slideText(findSlide(c.doc, slideId)!, 'title');
  c.doc.transact(() => {
    t.delete(0, t.length);
    t.insert(0, text);
  });
};

describe('versions', () => {
  let server: TestServer;
  let databaseUrl: string;
  const clients: CollabClient[] = [];
  const open = opener(clients);

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('versions');
    server = await startServer({ DATABASE_URL: databaseUrl, WEBSOCKET_MAX_CONNECTIONS_PER_USER: '20' });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
  });

  it('takes a version of the stored document, lists versions newest first a page at a time, and reads one as plain JSON', async () => {
    const owner = await createDeck(server, open, 'v-basic', { members: { eve: 'editor', vic: 'viewer' } });
    getMeta(owner.doc).set('theme', 'dark');
    await waitAcked(owner);
    const atV1 = plain(owner.doc);

    const v1 = await api(server, 'POST', '/presentations/v-basic/versions', 'olga', { label: ' First draft ' });
    expect(v1.status).toBe(201);
    expect(v1.body).toMatchObject({ presentation_id: 'v-basic', label: 'First draft', kind: 'manual', created_by: 'olga', created_by_name: 'OLGA' });
    expect(v1.body.version_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(v1.body.created_at)).toBeGreaterThan(Date.now() - 60_000);

    setTitle(owner, 's1', 'changed');
    await waitAcked(owner);
    // An editor may take one too, without a body (unnamed).
    const v2 = await api(server, 'POST', '/presentations/v-basic/versions', 'eve');
    expect(v2.status).toBe(201);
    expect(v2.body).toMatchObject({ label: null, created_by: 'eve' });

    // Members read: newest first, paginated.
    const page1 = await api(server, 'GET', '/presentations/v-basic/versions?limit=1', 'vic');
    expect(page1.status).toBe(200);
    expect(page1.body.versions.map((v: { version_id: string }) => v.version_id)).toEqual([v2.body.version_id]);
    expect(page1.body.next_cursor).toEqual(expect.any(String));
    const page2 = await api(server, 'GET', `/presentations/v-basic/versions?limit=1&cursor=${page1.body.next_cursor}`, 'vic');
    expect(page2.body.versions.map((v: { version_id: string }) => v.version_id)).toEqual([v1.body.version_id]);
    expect(page2.body.next_cursor).toBeNull();

    const read = await api(server, 'GET', `/presentations/v-basic/versions/${v1.body.version_id}`, 'vic');
    expect(read.status).toBe(200);
    expect(read.body).toEqual(atV1);
    expect(read.body.slides[0]).toMatchObject({ id: 's1', title: 'title s1', body: 'body s1' });
    expect((await api(server, 'GET', `/presentations/v-basic/versions/${v2.body.version_id}`, 'vic')).body.slides[0].title).toBe('changed');

    // A restore with nobody connected: the document is loaded, changed, stored and unloaded; the next editor sees it.
    // Unloading compacted the log first: versions do not depend on it.
    owner.destroy();
    await waitFor(() => !server.app.deckhand.collab.hocuspocus.documents.has('presentation:v-basic'), 10_000, 'document unloaded');
    await server.app.deckhand.collab.persistence.compact('presentation:v-basic');
    const rows = await queryDb<{ n: string }>(databaseUrl, "SELECT count(*) AS n FROM document_updates WHERE name = 'presentation:v-basic'");
    expect(Number(rows[0]!.n)).toBe(0);
    expect((await api(server, 'GET', `/presentations/v-basic/versions/${v1.body.version_id}`, 'vic')).body).toEqual(atV1);
    expect((await api(server, 'POST', `/presentations/v-basic/versions/${v1.body.version_id}/restore`, 'eve')).status).toBe(200);
    const reader = open(server, 'vic', 'v-basic');
    await waitSynced(reader);
    expect(plain(reader.doc)).toEqual(atV1);
  });

  it('checks roles and input: viewers cannot take or restore, strangers cannot read, bad ids and bodies are 400', async () => {
    await createDeck(server, open, 'v-perm', { members: { vic: 'viewer', cleo: 'commenter' } });
    const v = (await api(server, 'POST', '/presentations/v-perm/versions', 'olga', { label: 'x' })).body;
    const base = '/presentations/v-perm/versions';

    for (const user of ['vic', 'cleo']) {
      const take = await api(server, 'POST', base, user, {});
      expect(take.status).toBe(403);
      expect(take.body).toMatchObject({ type: 'error', error_code: 'PERMISSION_DENIED' });
      expect((await api(server, 'POST', `${base}/${v.version_id}/restore`, user)).status).toBe(403);
    }
    expect((await api(server, 'GET', base, 'mallory')).status).toBe(403);
    expect((await api(server, 'GET', `${base}/${v.version_id}`, 'mallory')).body.error_code).toBe('PERMISSION_DENIED');
    expect((await api(server, 'POST', `${base}/${v.version_id}/restore`, 'mallory')).status).toBe(403);
    expect((await api(server, 'GET', '/presentations/nope/versions', 'olga')).status).toBe(404);
    expect((await api(server, 'GET', base, null)).status).toBe(401);

    const bad = await api(server, 'GET', `${base}/not-a-uuid`, 'olga');
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('INVALID_MESSAGE');
    expect((await api(server, 'POST', `${base}/not-a-uuid/restore`, 'olga')).status).toBe(400);
    expect((await api(server, 'POST', base, 'olga', { label: 'x'.repeat(201) })).status).toBe(400);
    expect((await api(server, 'POST', base, 'olga', { label: { text: 'x' } })).status).toBe(400);
    expect((await api(server, 'POST', base, 'olga', { label: '' })).status).toBe(400);
    expect((await api(server, 'POST', base, 'olga', { label: 'ok', extra: true })).status).toBe(400);
    expect((await api(server, 'GET', `${base}?limit=0`, 'olga')).status).toBe(400);
    expect((await api(server, 'GET', `${base}?limit=1000`, 'olga')).status).toBe(400);
    expect((await api(server, 'GET', `${base}?cursor=abc`, 'olga')).status).toBe(400);
    expect((await api(server, 'GET', `/presentations/bad%20id/versions`, 'olga')).status).toBe(400);
    // A well-formed id that is not a version of this presentation.
    const missing = await api(server, 'GET', `${base}/00000000-0000-4000-8000-000000000000`, 'olga');
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('NOT_FOUND');
    await createDeck(server, open, 'v-other');
    expect((await api(server, 'GET', `/presentations/v-other/versions/${v.version_id}`, 'olga')).status).toBe(404);
    expect((await api(server, 'POST', `/presentations/v-other/versions/${v.version_id}/restore`, 'olga')).status).toBe(404);

    // The routes and their schemas are in the OpenAPI document.
    const spec = (await (await fetch(`${server.url}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/presentations/{id}/versions',
        '/api/v1/presentations/{id}/versions/{version_id}',
        '/api/v1/presentations/{id}/versions/{version_id}/restore',
        '/api/v1/presentations/{id}/activity',
      ]),
    );
  });

  it('restores through a forward change every editor receives, and restoring the backup undoes it', async () => {
    const owner = await createDeck(server, open, 'v-undo', { members: { eve: 'editor' } });
    const eve = open(server, 'eve', 'v-undo');
    await waitSynced(eve);
    const v1 = (await api(server, 'POST', '/presentations/v-undo/versions', 'olga', { label: 'v1' })).body;
    const atV1 = plain(owner.doc);

    // Edit a lot after v1: a slide deleted, one added, order changed, text edited, meta set.
    owner.doc.transact(() => {
      const slides = getSlides(owner.doc);
      slides.delete(1, 1); // s2
      const s3 = slides.get(1).clone();
      slides.delete(1, 1);
      slides.insert(0, [s3]);
      getMeta(owner.doc).set('title', 'Renamed');
    });
    setTitle(eve, 's1', 'eve was here');
    await Promise.all([waitAcked(owner), waitAcked(eve)]);
    await waitFor(() => JSON.stringify(plain(owner.doc)) === JSON.stringify(plain(eve.doc)), 5000, 'editors converge');
    const beforeRestore = plain(owner.doc);
    expect(beforeRestore).not.toEqual(atV1);

    const restored = await api(server, 'POST', `/presentations/v-undo/versions/${v1.version_id}/restore`, 'eve');
    expect(restored.status).toBe(200);
    expect(restored.body).toEqual({ restored: v1.version_id, backup_version_id: expect.any(String) });
    for (const c of [owner, eve]) await waitFor(() => JSON.stringify(plain(c.doc)) === JSON.stringify(atV1), 5000, 'restored everywhere');
    expect(title(eve, 's1')).toBe('title s1');

    // The backup is the document as it was just before, and restoring it is the undo.
    const backupId = restored.body.backup_version_id;
    const list = (await api(server, 'GET', '/presentations/v-undo/versions', 'olga')).body.versions;
    expect(list[0]).toMatchObject({ version_id: backupId, kind: 'backup', created_by: 'eve' });
    expect((await api(server, 'GET', `/presentations/v-undo/versions/${backupId}`, 'olga')).body).toEqual(beforeRestore);
    const undo = await api(server, 'POST', `/presentations/v-undo/versions/${backupId}/restore`, 'olga');
    expect(undo.status).toBe(200);
    for (const c of [owner, eve]) await waitFor(() => JSON.stringify(plain(c.doc)) === JSON.stringify(beforeRestore), 5000, 'undone everywhere');
    // The editors keep editing the restored document as usual.
    setTitle(eve, 's1', 'after undo');
    await waitAcked(eve);
    await waitFor(() => title(owner, 's1') === 'after undo', 5000, 'edit after undo');
  });

  it('refuses with LOCKED a restore that would change a slide another user holds, changing nothing', async () => {
    const owner = await createDeck(server, open, 'v-lock', { members: { hana: 'editor' } });
    const hana = open(server, 'hana', 'v-lock');
    await waitSynced(hana);
    const v1 = (await api(server, 'POST', '/presentations/v-lock/versions', 'olga', { label: 'v1' })).body;
    setTitle(hana, 's2', 'hana edits s2');
    setTitle(owner, 's1', 'olga edits s1');
    await Promise.all([waitAcked(owner), waitAcked(hana)]);
    const v2 = (await api(server, 'POST', '/presentations/v-lock/versions', 'olga', { label: 'v2' })).body;
    hana.provider.sendStateless(JSON.stringify({ type: 'lock_slide', slide_id: 's2' }));
    await waitForLock(server, 'v-lock', 's2');
    const versionsBefore = (await api(server, 'GET', '/presentations/v-lock/versions', 'olga')).body.versions.length;
    const before = plain(owner.doc);

    const refused = await api(server, 'POST', `/presentations/v-lock/versions/${v1.version_id}/restore`, 'olga');
    expect(refused.status).toBe(423);
    expect(refused.body).toMatchObject({
      type: 'error',
      error_code: 'LOCKED',
      details: { slide_ids: ['s2'], holders: [{ slide_id: 's2', name: 'HANA' }] },
    });
    expect(refused.body.message).toContain('HANA');
    // Nothing changed: no replica, no backup version.
    await new Promise((r) => setTimeout(r, 200));
    expect(plain(owner.doc)).toEqual(before);
    expect(plain(hana.doc)).toEqual(before);
    expect((await api(server, 'GET', '/presentations/v-lock/versions', 'olga')).body.versions.length).toBe(versionsBefore);

    // A restore that leaves the locked slide as it is goes through (v2 has s2 as it is now).
    setTitle(owner, 's1', 'olga again');
    await waitAcked(owner);
    expect((await api(server, 'POST', `/presentations/v-lock/versions/${v2.version_id}/restore`, 'olga')).status).toBe(200);
    await waitFor(() => title(hana, 's1') === 'olga edits s1', 5000, 'v2 restored');
    // The holder itself may restore over its own lock.
    expect((await api(server, 'POST', `/presentations/v-lock/versions/${v1.version_id}/restore`, 'hana')).status).toBe(200);
    await waitFor(() => title(owner, 's2') === 'title s2' && title(owner, 's1') === 'title s1', 5000, 'v1 restored by the holder');
  });
});

describe('automatic versions', () => {
  let server: TestServer;
  const clients: CollabClient[] = [];
  const open = opener(clients);
  const INTERVAL = 400;

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('autover'), VERSION_INTERVAL_MS: String(INTERVAL) });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
  });

  const automatic = async () =>
    (
      (await api(server, 'GET', '/presentations/v-auto/versions?limit=100', 'olga')).body.versions as {
        kind: string;
        created_by: string | null;
        version_id: string;
      }[]
    ).filter((v) => v.kind === 'automatic');

  it('takes a version after VERSION_INTERVAL_MS of editing, and none while the document is unchanged', async () => {
    const owner = await createDeck(server, open, 'v-auto');
    const start = Date.now();
    let autos: Awaited<ReturnType<typeof automatic>> = [];
    while (autos.length === 0) {
      if (Date.now() - start > 15_000) throw new Error('no automatic version');
      autos = await automatic();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(autos[0]).toMatchObject({ created_by: null });
    const events = (await api(server, 'GET', '/presentations/v-auto/activity', 'olga')).body.events;
    expect(events[0]).toMatchObject({ type: 'version.created', actor: null, details: { version_id: autos[0]!.version_id, kind: 'automatic' } });
    expect((await api(server, 'GET', `/presentations/v-auto/versions/${autos[0]!.version_id}`, 'olga')).body).toEqual(plain(owner.doc));

    // No edits: several intervals pass and nothing new is taken. Edits that cancel out (typed, then deleted) are
    // activity but no change: still nothing new.
    await new Promise((r) => setTimeout(r, INTERVAL * 3));
    const t = slideText(findSlide(owner.doc, 's1')!, 'title');
    t.insert(0, 'x');
    await waitAcked(owner);
    t.delete(0, 1);
    await waitAcked(owner);
    await new Promise((r) => setTimeout(r, INTERVAL * 3));
    expect(await automatic()).toHaveLength(1);

    // More editing: another one.
    setTitle(owner, 's1', 'edited later');
    await waitAcked(owner);
    const deadline = Date.now() + 15_000;
    while ((await automatic()).length < 2) {
      if (Date.now() > deadline) throw new Error('no second automatic version');
      await new Promise((r) => setTimeout(r, 50));
    }
    const latest = (await automatic())[0]!;
    expect((await api(server, 'GET', `/presentations/v-auto/versions/${latest.version_id}`, 'olga')).body.slides[0].title).toBe('edited later');
  });
});
