/**
 * Chat on one instance (in-process bus, Postgres): REST posting, history pages, edit and delete with tombstones,
 * permissions per role, bad input with its code, the rate limit, live events on the notifications socket and SSE,
 * a removed member's subscription ending, read receipts and unread counts, retention, and the OpenAPI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, queryDb } from '../helpers/database.js';
import type { JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import type { SseClient } from '../helpers/sse.js';
import { call } from '../realtime/support.js';
import { createDeck, history, post, socketOf, sseOf, subscribe, unread } from './support.js';

const RATE_MAX = 30;

describe('chat on one instance', () => {
  let server: TestServer;
  let databaseUrl: string;
  const sockets: JsonWsClient[] = [];
  const streams: SseClient[] = [];
  const ws = async (user: string) => {
    const client = await socketOf(server.url, user);
    sockets.push(client);
    return client;
  };
  const sse = async (user: string, channels: string[]) => {
    const stream = await sseOf(server.url, user, channels);
    streams.push(stream);
    return stream;
  };

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('chat');
    server = await startServer({ DATABASE_URL: databaseUrl, CHAT_RATE_MAX: String(RATE_MAX), CHAT_RATE_WINDOW_MS: '60000' });
    await createDeck(server.url, 'deck', 'olga', { ed: 'editor', cora: 'commenter', vic: 'viewer', rita: 'commenter' });
    await createDeck(server.url, 'other', 'sam', { cora: 'commenter' });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const s of streams) s.close();
    await server?.close();
  });

  it('commenters and up post; viewers and strangers cannot; members read the history newest first, in pages', async () => {
    const first = await post(server.url, 'cora', 'deck', { text: '  hello deck  ' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      presentation_id: 'deck',
      user_id: 'cora',
      user_name: 'CORA',
      text: 'hello deck',
      reply_to: null,
      edited_at: null,
      deleted: false,
    });
    expect(first.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(first.body.created_at)).toBeGreaterThan(0);
    for (const user of ['ed', 'olga']) expect((await post(server.url, user, 'deck', { text: `from ${user}` })).status).toBe(201);
    const reply = await post(server.url, 'ed', 'deck', { text: 'answer', reply_to: first.body.id });
    expect(reply.body.reply_to).toBe(first.body.id);

    for (const [user, status] of [
      ['vic', 403],
      ['sam', 403],
    ] as const) {
      const refused = await post(server.url, user, 'deck', { text: 'let me in' });
      expect(refused.status, user).toBe(status);
      expect(refused.body.error_code).toBe('PERMISSION_DENIED');
    }
    expect((await post(server.url, 'cora', 'nowhere', { text: 'x' })).status).toBe(404);
    expect((await history(server.url, 'sam', 'deck')).status).toBe(403);

    const all = await history(server.url, 'vic', 'deck');
    expect(all.status).toBe(200);
    expect(all.body.messages.map((m: any) => m.text)).toEqual(['answer', 'from olga', 'from ed', 'hello deck']);
    const page1 = await history(server.url, 'vic', 'deck', '?limit=2');
    expect(page1.body.messages.map((m: any) => m.text)).toEqual(['answer', 'from olga']);
    const page2 = await history(server.url, 'vic', 'deck', `?limit=2&before=${page1.body.messages[1].id}`);
    expect(page2.body.messages.map((m: any) => m.text)).toEqual(['from ed', 'hello deck']);
    const page3 = await history(server.url, 'vic', 'deck', `?limit=2&before=${page2.body.messages[1].id}`);
    expect(page3.body.messages).toEqual([]);
    // Nothing of this deck leaks into another one.
    expect((await history(server.url, 'cora', 'other')).body.messages).toEqual([]);
  });

  it('refuses bad input with INVALID_MESSAGE, whatever the field', async () => {
    const ok = await post(server.url, 'cora', 'other', { text: 'in other' });
    expect(ok.status).toBe(201);
    const bad: unknown[] = [
      {},
      { text: '' },
      { text: '   \n\t ' },
      { text: 'x'.repeat(4001) },
      { text: ['a', 'b'] },
      { text: 'hi', extra: true },
      { text: 'hi', reply_to: 'not-a-uuid' },
      { text: 'hi', reply_to: '00000000-0000-4000-8000-000000000000' },
      { text: 'hi', reply_to: ok.body.id }, // a message of another presentation
      { text: 'nul \u0000 inside' },
    ];
    for (const body of bad) {
      const res = await post(server.url, 'cora', 'deck', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_MESSAGE');
    }
    expect((await post(server.url, 'cora', 'deck', { text: 'x'.repeat(4000) })).status).toBe(201);
    const notJson = await call(server.url, 'POST', '/api/v1/presentations/deck/chat', {
      token: mintToken('cora'),
      headers: { 'content-type': 'application/json' },
      body: undefined,
    });
    expect(notJson.status).toBe(400);
    for (const query of ['?limit=0', '?limit=101', '?limit=x', '?before=nope', `?before=${ok.body.id}`]) {
      const res = await history(server.url, 'cora', 'deck', query);
      expect(res.status, query).toBe(400);
      expect(res.body.error_code).toBe('INVALID_MESSAGE');
    }
    const patch = await call(server.url, 'PATCH', '/api/v1/chat/not-an-id', { token: mintToken('cora'), body: { text: 'x' } });
    expect(patch.status).toBe(400);
    const unknown = await call(server.url, 'PATCH', '/api/v1/chat/00000000-0000-4000-8000-000000000000', {
      token: mintToken('cora'),
      body: { text: 'x' },
    });
    expect(unknown.status).toBe(404);
    expect((await call(server.url, 'GET', '/api/v1/presentations/deck/chat')).status).toBe(401);
  });

  it('the author edits; the author or an owner deletes, leaving a tombstone; nobody else', async () => {
    const mine = (await post(server.url, 'rita', 'deck', { text: 'typo heer' })).body;
    const edit = (user: string, text: string) => call(server.url, 'PATCH', `/api/v1/chat/${mine.id}`, { token: mintToken(user), body: { text } });
    const edited = await edit('rita', 'typo here');
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ id: mine.id, text: 'typo here', deleted: false });
    expect(Date.parse(edited.body.edited_at)).toBeGreaterThanOrEqual(Date.parse(mine.created_at));
    for (const user of ['olga', 'ed']) expect((await edit(user, 'hijacked')).status).toBe(403);
    expect((await edit('sam', 'hijacked')).status).toBe(404);
    expect((await edit('rita', '')).status).toBe(400);

    const del = (user: string, id: string) => call(server.url, 'DELETE', `/api/v1/chat/${id}`, { token: mintToken(user) });
    expect((await del('cora', mine.id)).status).toBe(403); // a commenter, not the author
    expect((await del('vic', mine.id)).status).toBe(403);
    expect((await del('sam', mine.id)).status).toBe(404);
    const gone = await del('rita', mine.id);
    expect(gone.status).toBe(200);
    expect(gone.body).toMatchObject({ id: mine.id, text: '', deleted: true, user_id: 'rita' });
    expect((await del('rita', mine.id)).body).toMatchObject({ deleted: true }); // idempotent
    expect((await edit('rita', 'back')).status).toBe(409);

    const theirs = (await post(server.url, 'ed', 'deck', { text: 'owner will remove this' })).body;
    const moderated = await del('olga', theirs.id);
    expect(moderated.status).toBe(200);
    expect(moderated.body).toMatchObject({ deleted: true, text: '', user_id: 'ed' });
    const tombstones = (await history(server.url, 'vic', 'deck')).body.messages.filter((m: any) => m.deleted);
    expect(tombstones.map((m: any) => m.id).sort()).toEqual([mine.id, theirs.id].sort());
    expect(tombstones.every((m: any) => m.text === '')).toBe(true);
    const [row] = await queryDb<{ text: string }>(databaseUrl, 'SELECT text FROM chat_messages WHERE id = $1', [mine.id]);
    expect(row!.text).toBe(''); // the text is gone from Postgres too
  });

  it('a user posting too fast gets RATE_LIMIT_EXCEEDED, with when to retry', async () => {
    await createDeck(server.url, 'fast', 'fay');
    let refused: any;
    for (let i = 0; i < RATE_MAX + 1 && !refused; i++) {
      const res = await post(server.url, 'fay', 'fast', { text: `m${i}` });
      if (res.status !== 201) refused = res;
    }
    expect(refused?.status).toBe(429);
    expect(refused.body.error_code).toBe('RATE_LIMIT_EXCEEDED');
    expect(refused.body.details.retry_after_ms).toBeGreaterThan(0);
    expect((await history(server.url, 'fay', 'fast')).body.messages).toHaveLength(RATE_MAX);
    // Another user is not limited by fay's messages.
    expect((await post(server.url, 'cora', 'deck', { text: 'still fine' })).status).toBe(201);
  });

  it('live on chat.{id}: members follow over WebSocket and SSE; strangers cannot subscribe', async () => {
    await createDeck(server.url, 'live', 'olga', { vic: 'viewer', cora: 'commenter' });
    const viewer = await ws('vic');
    expect(await subscribe(viewer, 'chat.live')).toMatchObject({ type: 'subscribed' });
    const stranger = await ws('sam');
    expect(await subscribe(stranger, 'chat.live')).toMatchObject({ type: 'error', error_code: 'PERMISSION_DENIED' });
    expect(await subscribe(stranger, 'chat.')).toMatchObject({ type: 'error', error_code: 'INVALID_MESSAGE' });
    const refusedSse = await sseOf(server.url, 'sam', ['chat.live']);
    expect(refusedSse.status).toBe(403);
    const stream = await sse('vic', ['chat.live']);
    expect(stream.status).toBe(200);

    const message = (await post(server.url, 'cora', 'live', { text: 'live one' })).body;
    await call(server.url, 'PATCH', `/api/v1/chat/${message.id}`, { token: mintToken('cora'), body: { text: 'live one, edited' } });
    await call(server.url, 'DELETE', `/api/v1/chat/${message.id}`, { token: mintToken('olga') });
    const expected = [
      { type: 'chat_message', id: message.id, text: 'live one', presentation_id: 'live', user_id: 'cora', deleted: false },
      { type: 'chat_message_updated', id: message.id, text: 'live one, edited' },
      { type: 'chat_message_deleted', id: message.id, text: '', deleted: true },
    ];
    const chatTypes = new Set(expected.map((e) => e.type));
    await viewer.waitFor(() => viewer.messages.filter((m) => chatTypes.has(m.type)).length === 3, 5000, 'three chat events');
    viewer.messages.filter((m) => chatTypes.has(m.type)).forEach((m, i) => expect(m).toMatchObject(expected[i]!));
    await stream.waitFor(() => stream.events.filter((e) => chatTypes.has(e.json?.type)).length === 3, 5000, 'three chat events over SSE');
    stream.events.filter((e) => chatTypes.has(e.json?.type)).forEach((e, i) => expect(e.json).toMatchObject(expected[i]!));
    expect(stream.events.every((e) => e.id !== undefined)).toBe(true);
    expect(stranger.messages.some((m) => chatTypes.has(m.type))).toBe(false);
  });

  it('a member removed from the presentation stops receiving its chat, on the socket and over SSE', async () => {
    await createDeck(server.url, 'leave', 'olga', { dora: 'commenter', cora: 'commenter' });
    const dora = await ws('dora');
    expect(await subscribe(dora, 'chat.leave')).toMatchObject({ type: 'subscribed' });
    const stream = await sse('dora', ['chat.leave']);
    await post(server.url, 'cora', 'leave', { text: 'before' });
    await dora.waitFor((m) => m.type === 'chat_message' && m.text === 'before');
    await stream.waitFor((e) => e.json?.text === 'before');

    expect((await call(server.url, 'DELETE', '/api/v1/presentations/leave/members/dora', { token: mintToken('olga') })).status).toBe(204);
    await dora.waitFor((m) => m.type === 'unsubscribed' && m.channel === 'chat.leave', 5000, 'unsubscribed on removal');
    expect(dora.messages.some((m) => m.error_code === 'PERMISSION_DENIED')).toBe(true);
    await stream.waitFor((e) => e.json?.error_code === 'PERMISSION_DENIED', 5000, 'SSE told');

    // A member still following sees the next message; dora does not.
    const cora = await ws('cora');
    await subscribe(cora, 'chat.leave');
    await post(server.url, 'cora', 'leave', { text: 'after' });
    await cora.waitFor((m) => m.type === 'chat_message' && m.text === 'after');
    await stream.waitFor(() => false, 300).catch(() => undefined);
    expect(dora.messages.some((m) => m.text === 'after')).toBe(false);
    expect(stream.events.some((e) => e.json?.text === 'after')).toBe(false);
    expect(await subscribe(dora, 'chat.leave')).toMatchObject({ type: 'error', error_code: 'PERMISSION_DENIED' });
  });

  it('read receipts: stored per user, moved forward only, announced; unread counts what others posted after the mark', async () => {
    await createDeck(server.url, 'reads', 'olga', { cora: 'commenter', vic: 'viewer' });
    const follower = await ws('olga');
    await subscribe(follower, 'chat.reads');
    const posted: any[] = [];
    for (const text of ['one', 'two', 'three']) posted.push((await post(server.url, 'cora', 'reads', { text })).body);
    expect(await unread(server.url, 'vic', 'reads')).toBe(3);
    expect(await unread(server.url, 'cora', 'reads')).toBe(0); // one's own messages are never unread
    expect(await unread(server.url, 'olga', 'reads')).toBe(3);

    // A viewer marks read over the socket; the mark is announced and stored.
    const vic = await ws('vic');
    vic.send({ type: 'chat_read', presentation_id: 'reads', message_id: posted[1].id });
    const announced = await follower.waitFor((m) => m.type === 'chat_read');
    expect(announced).toMatchObject({ presentation_id: 'reads', user_id: 'vic', message_id: posted[1].id });
    expect(await unread(server.url, 'vic', 'reads')).toBe(1);
    // Older marks do not move it back (and are not announced); REST marks the same way.
    vic.send({ type: 'chat_read', presentation_id: 'reads', message_id: posted[0].id });
    const back = await call(server.url, 'POST', '/api/v1/presentations/reads/chat/read', {
      token: mintToken('vic'),
      body: { message_id: posted[0].id },
    });
    expect(back.body).toMatchObject({ user_id: 'vic', message_id: posted[1].id });
    expect(await unread(server.url, 'vic', 'reads')).toBe(1);
    const forward = await call(server.url, 'POST', '/api/v1/presentations/reads/chat/read', {
      token: mintToken('vic'),
      body: { message_id: posted[2].id },
    });
    expect(forward.body).toMatchObject({ message_id: posted[2].id });
    expect(await unread(server.url, 'vic', 'reads')).toBe(0);
    await follower.waitFor((m) => m.type === 'chat_read' && m.message_id === posted[2].id);
    expect(follower.messages.filter((m) => m.type === 'chat_read' && m.user_id === 'vic').map((m) => m.message_id)).toEqual([
      posted[1].id,
      posted[2].id,
    ]);
    const marks = await call(server.url, 'GET', '/api/v1/presentations/reads/chat/reads', { token: mintToken('cora') });
    expect(marks.body.reads).toEqual([expect.objectContaining({ user_id: 'vic', message_id: posted[2].id })]);
    const rows = await queryDb(databaseUrl, "SELECT user_id, message_id FROM chat_reads WHERE presentation_id = 'reads'");
    expect(rows).toEqual([{ user_id: 'vic', message_id: posted[2].id }]);

    // A deleted message no longer counts; errors for marks that cannot be.
    await post(server.url, 'cora', 'reads', { text: 'four' });
    const five = (await post(server.url, 'cora', 'reads', { text: 'five' })).body;
    expect(await unread(server.url, 'vic', 'reads')).toBe(2);
    await call(server.url, 'DELETE', `/api/v1/chat/${five.id}`, { token: mintToken('cora') });
    expect(await unread(server.url, 'vic', 'reads')).toBe(1);
    const from = vic.messages.length;
    vic.send({ type: 'chat_read', presentation_id: 'reads', message_id: '00000000-0000-4000-8000-000000000000' });
    expect(await vic.waitFor((m) => m.type === 'error', 5000, 'not found', from)).toMatchObject({ error_code: 'NOT_FOUND' });
    vic.send({ type: 'chat_read', presentation_id: 'deck', message_id: posted[0].id });
    expect(await vic.waitFor((m) => m.type === 'error', 5000, 'another deck', from + 1)).toMatchObject({ error_code: 'NOT_FOUND' });
    const stranger = await ws('sam');
    stranger.send({ type: 'chat_read', presentation_id: 'reads', message_id: posted[0].id });
    expect(await stranger.waitForType('error')).toMatchObject({ error_code: 'PERMISSION_DENIED' });
    expect((await call(server.url, 'GET', '/api/v1/presentations/reads/chat/unread', { token: mintToken('sam') })).status).toBe(403);
    for (const bad of [
      { type: 'chat_read', presentation_id: 'reads' },
      { type: 'chat_read', presentation_id: 'reads', message_id: 'x' },
      { type: 'chat_read', presentation_id: '../x', message_id: posted[0].id },
    ]) {
      const at = vic.messages.length;
      vic.send(bad);
      expect(await vic.waitFor((m) => m.type === 'error', 5000, 'invalid', at)).toMatchObject({ error_code: 'INVALID_MESSAGE' });
    }
  });

  it('retention: messages older than CHAT_RETENTION_DAYS are pruned; replies and read marks stay', async () => {
    await createDeck(server.url, 'old', 'olga', { cora: 'commenter' });
    const ancient = (await post(server.url, 'cora', 'old', { text: 'ancient' })).body;
    const reply = (await post(server.url, 'olga', 'old', { text: 'recent reply', reply_to: ancient.id })).body;
    await call(server.url, 'POST', '/api/v1/presentations/old/chat/read', { token: mintToken('olga'), body: { message_id: ancient.id } });
    await queryDb(databaseUrl, "UPDATE chat_messages SET created_at = now() - interval '91 days' WHERE id = $1", [ancient.id]);
    expect(await server.app.deckhand.chat.retention.prune()).toBeGreaterThanOrEqual(1);
    const left = (await history(server.url, 'olga', 'old')).body.messages;
    expect(left.map((m: any) => m.id)).toEqual([reply.id]);
    expect(left[0].reply_to).toBeNull();
    expect((await call(server.url, 'GET', '/api/v1/presentations/old/chat/reads', { token: mintToken('olga') })).body.reads).toHaveLength(1);
    expect(await unread(server.url, 'olga', 'old')).toBe(0);
  });

  it('appears in the OpenAPI', async () => {
    const spec = (await call(server.url, 'GET', '/docs/json')).body;
    for (const path of ['/api/v1/presentations/{id}/chat', '/api/v1/presentations/{id}/chat/unread', '/api/v1/chat/{message_id}']) {
      expect(Object.keys(spec.paths), path).toContain(path);
    }
    expect(spec.paths['/api/v1/chat/{message_id}']).toHaveProperty('patch');
    expect(spec.paths['/api/v1/chat/{message_id}']).toHaveProperty('delete');
  });
});
