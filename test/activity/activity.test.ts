/**
 * The activity log through real clients: member changes and REST locks over HTTP, locks over the collaboration
 * socket (@hocuspocus/provider), versions and restores; read back over HTTP with actor and time, paginated, pruned
 * after the retention period, and gone with the presentation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, queryDb } from '../helpers/database.js';
import { waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { api, createDeck, opener, waitForLock } from '../versions/support.js';

interface Event {
  id: string;
  type: string;
  actor: { user_id: string; name: string } | null;
  at: string;
  details: Record<string, unknown>;
}

describe('activity', () => {
  let server: TestServer;
  let databaseUrl: string;
  const clients: CollabClient[] = [];
  const open = opener(clients);
  const events = async (id: string, user = 'olga', query = '') =>
    (await api(server, 'GET', `/presentations/${id}/activity${query}`, user)).body.events as Event[];

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('activity');
    server = await startServer({ DATABASE_URL: databaseUrl, ACTIVITY_RETENTION_DAYS: '30' });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
  });

  it('records member changes, locks, versions and restores with actor, time and details, newest first', async () => {
    const started = Date.now();
    await createDeck(server, open, 'act', { members: { eve: 'editor', vic: 'viewer' } });
    expect((await api(server, 'PUT', '/presentations/act/members/vic', 'olga', { role: 'commenter' })).status).toBe(200);
    expect((await api(server, 'DELETE', '/presentations/act/members/vic', 'vic')).status).toBe(204);

    // Locks over REST (a renewal is not an event) and over the collaboration socket.
    expect((await api(server, 'POST', '/presentations/act/locks/s1', 'eve')).status).toBe(201);
    expect((await api(server, 'POST', '/presentations/act/locks/s1', 'eve')).status).toBe(201);
    expect((await api(server, 'DELETE', '/presentations/act/locks/s1', 'olga')).status).toBe(204);
    const eve = open(server, 'eve', 'act');
    await waitSynced(eve);
    eve.provider.sendStateless(JSON.stringify({ type: 'lock_slide', slide_id: 's2' }));
    await waitForLock(server, 'act', 's2');
    eve.provider.sendStateless(JSON.stringify({ type: 'unlock_slide', slide_id: 's2' }));
    // Socket lock events are recorded without holding up the lock reply: wait for the last one.
    const deadline = Date.now() + 5000;
    let log = await events('act');
    while (!log.some((e) => e.type === 'lock.released' && e.details.slide_id === 's2')) {
      if (Date.now() > deadline) throw new Error(`no socket unlock event: ${JSON.stringify(log)}`);
      await new Promise((r) => setTimeout(r, 50));
      log = await events('act');
    }

    const version = (await api(server, 'POST', '/presentations/act/versions', 'eve', { label: 'Draft' })).body;
    const restore = (await api(server, 'POST', `/presentations/act/versions/${version.version_id}/restore`, 'olga')).body;
    log = await events('act');
    const summary = log.map((e) => [e.type, e.actor?.user_id ?? null, e.details]);
    expect(summary).toEqual([
      ['version.restored', 'olga', { version_id: version.version_id, label: 'Draft', backup_version_id: restore.backup_version_id }],
      ['version.created', 'eve', { version_id: version.version_id, label: 'Draft', kind: 'manual' }],
      ['lock.released', 'eve', { slide_id: 's2' }],
      ['lock.acquired', 'eve', { slide_id: 's2' }],
      ['lock.released', 'olga', { slide_id: 's1', forced: true, holder: 'eve' }],
      ['lock.acquired', 'eve', { slide_id: 's1' }],
      ['member.removed', 'vic', { user_id: 'vic', previous_role: 'commenter' }],
      ['member.role_changed', 'olga', { user_id: 'vic', role: 'commenter', previous_role: 'viewer' }],
      ['member.added', 'olga', { user_id: 'vic', role: 'viewer' }],
      ['member.added', 'olga', { user_id: 'eve', role: 'editor' }],
      ['presentation.created', 'olga', { title: null }],
    ]);
    for (const e of log) {
      expect(e.actor?.name).toBe(e.actor?.user_id.toUpperCase());
      expect(Date.parse(e.at)).toBeGreaterThanOrEqual(started - 1000);
      expect(Date.parse(e.at)).toBeLessThanOrEqual(Date.now() + 1000);
      expect(e.id).toMatch(/^\d+$/);
    }
    expect(log.map((e) => Number(e.id))).toEqual([...log.map((e) => Number(e.id))].sort((x, y) => y - x));
  });

  it('pages back with limit and before, and answers strangers, bad input and anonymous callers with the contract errors', async () => {
    await createDeck(server, open, 'act-page', { members: { a1: 'viewer', a2: 'viewer', a3: 'viewer' } });
    const first = await api(server, 'GET', '/presentations/act-page/activity?limit=2', 'a1');
    expect(first.status).toBe(200);
    expect(first.body.events.map((e: Event) => e.details.user_id)).toEqual(['a3', 'a2']);
    const second = await api(server, 'GET', `/presentations/act-page/activity?limit=2&before=${first.body.next_before}`, 'a1');
    expect(second.body.events.map((e: Event) => e.type)).toEqual(['member.added', 'presentation.created']);
    expect(second.body.next_before).toBeNull();

    expect((await api(server, 'GET', '/presentations/act-page/activity', 'mallory')).status).toBe(403);
    expect((await api(server, 'GET', '/presentations/missing/activity', 'olga')).status).toBe(404);
    expect((await api(server, 'GET', '/presentations/act-page/activity', null)).status).toBe(401);
    for (const query of ['?limit=0', '?limit=500', '?before=abc', '?before=-1', '?other=1']) {
      const bad = await api(server, 'GET', `/presentations/act-page/activity${query}`, 'olga');
      expect(bad.status, query).toBe(400);
      expect(bad.body).toMatchObject({ type: 'error', error_code: 'INVALID_MESSAGE' });
    }
    // An admin token reads any presentation's activity.
    const admin = await fetch(`${server.url}/api/v1/presentations/act-page/activity`, {
      headers: { authorization: `Bearer ${mintToken('ops', { scope: 'admin' })}` },
    });
    expect(admin.status).toBe(200);
  });

  it('prunes events older than ACTIVITY_RETENTION_DAYS, and deleting a presentation deletes its versions and activity', async () => {
    await createDeck(server, open, 'act-old', { members: { bo: 'viewer' } });
    expect((await api(server, 'POST', '/presentations/act-old/versions', 'olga')).status).toBe(201);
    await queryDb(
      databaseUrl,
      "UPDATE presentation_activity SET at = now() - interval '31 days' WHERE presentation_id = 'act-old' AND type = 'member.added'",
    );
    expect(await server.app.deckhand.activity.prune()).toBeGreaterThanOrEqual(1);
    expect((await events('act-old')).map((e) => e.type)).toEqual(['version.created', 'presentation.created']);

    await queryDb(databaseUrl, "DELETE FROM presentations WHERE id = 'act-old'");
    const left = await queryDb<{ n: string }>(
      databaseUrl,
      "SELECT (SELECT count(*) FROM presentation_versions WHERE presentation_id = 'act-old') + (SELECT count(*) FROM presentation_activity WHERE presentation_id = 'act-old') AS n",
    );
    expect(Number(left[0]!.n)).toBe(0);
  });
});
