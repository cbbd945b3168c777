import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSlides, insertSlide, slideText } from '../../shared/presentation.js';
import { openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase, loadFromDatabase, queryDb } from '../helpers/database.js';
import { editOf, errorsOf, openRawWriter } from '../helpers/raw-writer.js';
import { mintToken, startServer, TEST_SECRET, type TestServer } from '../helpers/server.js';

describe('collaboration: authentication, roles and awareness', () => {
  let server: TestServer;
  let databaseUrl: string;
  const clients: CollabClient[] = [];
  const open = (presentationId: string, token: string | (() => string)) => {
    const c = openClient({ url: server.wsUrl, presentationId, token });
    clients.push(c);
    return c;
  };
  async function setRole(presentationId: string, userId: string, role: string) {
    const res = await fetch(`${server.url}/api/v1/presentations/${presentationId}/members/${userId}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${mintToken('owner')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role }),
    });
    expect(res.status).toBe(200);
  }

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('auth');
    server = await startServer({ DATABASE_URL: databaseUrl, AUTO_CREATE_PRESENTATIONS: 'false' });
    const res = await fetch(`${server.url}/api/v1/presentations/deck`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${mintToken('owner')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Roles' }),
    });
    expect(res.status).toBe(201);
    await setRole('deck', 'vera', 'viewer');
    await setRole('deck', 'eddie', 'editor');
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
  });

  it('refuses a stranger, and an unknown presentation when auto-create is off', async () => {
    const stranger = open('deck', mintToken('mallory'));
    await waitFor(() => stranger.authFailures.length > 0, 5000, 'refusal');
    expect(stranger.authFailures[0]).toBe('PERMISSION_DENIED');
    expect(stranger.provider.isSynced).toBe(false);

    const unknown = open('no-such-deck', mintToken('owner'));
    await waitFor(() => unknown.authFailures.length > 0, 5000, 'refusal');
    expect(unknown.authFailures[0]).toBe('PERMISSION_DENIED');
    const rows = await queryDb(databaseUrl, 'SELECT id FROM presentations WHERE id = $1', ['no-such-deck']);
    expect(rows).toHaveLength(0);
  });

  it('refuses expired, forged (alg none, wrong key) and garbage tokens', async () => {
    const expired = jwt.sign({ sub: 'owner', exp: Math.floor(Date.now() / 1000) - 60 }, TEST_SECRET, { algorithm: 'HS256' });
    const none = jwt.sign({ sub: 'owner', exp: Math.floor(Date.now() / 1000) + 600 }, '', { algorithm: 'none' });
    const wrongKey = mintToken('owner', { secret: 'another-secret-of-enough-length' });
    const noExp = jwt.sign({ sub: 'owner' }, TEST_SECRET, { algorithm: 'HS256' });
    const hs384 = jwt.sign({ sub: 'owner' }, TEST_SECRET, { algorithm: 'HS384', expiresIn: 600 });
    const tokens = [expired, none, wrongKey, noExp, hs384, 'garbage', ''];
    const refused = tokens.map((t) => open('deck', t));
    await waitFor(() => refused.every((c) => c.authFailures.length > 0), 5000, 'every bad token refused');
    for (const c of refused) {
      expect(c.authFailures[0]).toBe('AUTHENTICATION_FAILED');
      expect(c.provider.isSynced).toBe(false);
    }
  });

  it('a viewer reads, but its edits never reach other clients or the database', async () => {
    const editor = open('deck', mintToken('eddie'));
    const viewer = open('deck', mintToken('vera'));
    await Promise.all([waitSynced(editor), waitSynced(viewer)]);
    expect(viewer.provider.authorizedScope).toBe('readonly');
    insertSlide(editor.doc, { id: 'v1', title: 'from editor' });
    await waitAcked(editor);
    await waitFor(() => getSlides(viewer.doc).length === 1, 5000, 'viewer sees the editor');

    slideText(getSlides(viewer.doc).get(0), 'title').insert(0, 'VIEWER WAS HERE ');
    insertSlide(viewer.doc, { id: 'viewer-slide' });
    // Give the server every chance to (wrongly) apply and relay it.
    await new Promise((r) => setTimeout(r, 500));
    expect(slideText(getSlides(editor.doc).get(0), 'title').toString()).toBe('from editor');
    expect(getSlides(editor.doc).length).toBe(1);
    const rows = await queryDb<{ update: Buffer }>(databaseUrl, 'SELECT update FROM document_updates WHERE name = $1', ['presentation:deck']);
    const everything = Buffer.concat(rows.map((r) => r.update)).toString('latin1');
    expect(everything).not.toContain('VIEWER WAS HERE');
    expect(everything).not.toContain('viewer-slide');
  });

  it('stamps awareness with the authenticated user, whatever the client claims', async () => {
    const eddie = open('deck', mintToken('eddie', { name: 'Eddie Editor' }));
    const owner = open('deck', mintToken('owner', { name: 'Olga Owner' }));
    await Promise.all([waitSynced(eddie), waitSynced(owner)]);
    eddie.provider.setAwarenessField('user', { id: 'owner', name: 'Olga Owner', color: '#000000' });
    eddie.provider.setAwarenessField('cursor', { slide: 'v1', index: 3 });
    const eddieId = eddie.doc.clientID;
    await waitFor(
      () => (owner.provider.awareness?.getStates().get(eddieId) as { cursor?: unknown } | undefined)?.cursor !== undefined,
      5000,
      'awareness relayed',
    );
    const seen = owner.provider.awareness?.getStates().get(eddieId) as { user: { id: string; name: string; color: string }; cursor: unknown };
    expect(seen.user.id).toBe('eddie');
    expect(seen.user.name).toBe('Eddie Editor');
    expect(seen.user.color).toMatch(/^#[0-9a-f]{6}$/);
    expect(seen.cursor).toEqual({ slide: 'v1', index: 3 });
  });

  /** Every slide id in the database's rows for the deck (what a fresh load would have). */
  const storedSlideIds = async () =>
    getSlides(await loadFromDatabase(databaseUrl, 'presentation:deck'))
      .toArray()
      .map((s) => s.get('id'));

  it('closes a connection whose token expires, unless the client sends a fresh one; nothing it sends later is applied', async () => {
    const watcher = open('deck', mintToken('owner'));
    await waitSynced(watcher);
    // A raw client whose token expires in 3 s and that never sends a fresh one.
    const expiring = await openRawWriter(server.wsUrl, 'deck', mintToken('eddie', { expiresIn: 3 }));
    await expiring.until(
      () => errorsOf(expiring.stateless, 'AUTHENTICATION_FAILED').length > 0 && expiring.closes.length > 0,
      'expiry and close',
      8000,
    );
    expect(expiring.closes).toEqual(['AUTHENTICATION_FAILED']);
    expiring.send(editOf(watcher.doc, (doc) => insertSlide(doc, { id: 'after-expiry' })));
    expiring.sendAuth(mintToken('eddie', { expiresIn: 3 }).replace(/.$/, '')); // refused: shows the update was handled
    await expiring.until(() => expiring.denials.length > 0, 'the later frames handled');
    insertSlide(watcher.doc, { id: 'sentinel-expiry' });
    await waitAcked(watcher);
    expect(await storedSlideIds()).not.toContain('after-expiry');
    expect(
      getSlides(watcher.doc)
        .toArray()
        .map((s) => s.get('id')),
    ).not.toContain('after-expiry');

    // A static token that expires in 3 s: the server asks for a fresh one, gets the same, then closes.
    const staticToken = mintToken('eddie', { expiresIn: 3 });
    const stale = open('deck', staticToken);
    // A token function: every refresh mints a new short-lived token, so the connection lives on.
    let minted = 0;
    const fresh = open('deck', () => {
      minted++;
      return mintToken('eddie', { expiresIn: 3 });
    });
    await Promise.all([waitSynced(stale), waitSynced(fresh)]);
    await waitFor(() => stale.stateless.some((m) => (m as { error_code?: string }).error_code === 'AUTHENTICATION_FAILED'), 8000, 'expiry notice');
    await new Promise((r) => setTimeout(r, 3000));
    expect(minted).toBeGreaterThan(1);
    expect(fresh.stateless.some((m) => (m as { error_code?: string }).error_code === 'AUTHENTICATION_FAILED')).toBe(false);
    // The fresh client still writes and gets acks.
    insertSlide(fresh.doc, { id: `fresh-${Date.now()}` });
    await waitAcked(fresh);
  });

  it('a revocation closes open connections and a demotion makes them read-only: nothing either sends later is applied', async () => {
    await setRole('deck', 'rita', 'editor');
    await setRole('deck', 'dora', 'editor');
    const rita = await openRawWriter(server.wsUrl, 'deck', mintToken('rita'));
    const dora = await openRawWriter(server.wsUrl, 'deck', mintToken('dora'));
    const watcher = open('deck', mintToken('owner'));
    await waitSynced(watcher);

    const del = await fetch(`${server.url}/api/v1/presentations/deck/members/rita`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${mintToken('owner')}` },
    });
    expect(del.status).toBe(204);
    await rita.until(() => errorsOf(rita.stateless, 'PERMISSION_DENIED').length > 0 && rita.closes.length > 0, 'revocation and close', 2000);
    expect(rita.closes).toEqual(['PERMISSION_DENIED']);
    rita.send(editOf(watcher.doc, (doc) => insertSlide(doc, { id: 'after-revocation' })));
    rita.sendAuth(mintToken('rita')); // no longer a member: refused, which shows the update before it was handled
    await rita.until(() => rita.denials.includes('PERMISSION_DENIED'), 'the later frames handled');

    await setRole('deck', 'dora', 'viewer');
    dora.send(editOf(watcher.doc, (doc) => insertSlide(doc, { id: 'after-demotion' })));
    dora.sendStateless(JSON.stringify({ type: 'lock_slide', slide_id: 'any' })); // answered after the update was handled
    await dora.until(() => dora.stateless.some((m) => m.error_code === 'PERMISSION_DENIED'), 'the later frames handled');
    expect(dora.acks).toEqual([false]);
    expect(dora.closes).toEqual([]);

    insertSlide(watcher.doc, { id: 'sentinel-roles' });
    await waitAcked(watcher);
    const stored = await storedSlideIds();
    expect(stored).toContain('sentinel-roles');
    expect(stored).not.toContain('after-revocation');
    expect(stored).not.toContain('after-demotion');
  });
});
