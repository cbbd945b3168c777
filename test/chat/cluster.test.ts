/**
 * Chat on two instances sharing Postgres and a private Redis: messages, edits, deletes, typing, read receipts and the
 * rate limit cross instances; a typist whose instance is killed (-9) is stopped by the other instance; a Redis
 * restart loses no message (Postgres holds them), and live delivery and typing come back after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import type { JsonWsClient } from '../helpers/json-ws.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { mintToken, startServer, startServerProcess, type ServerProcess, type TestServer } from '../helpers/server.js';
import type { SseClient } from '../helpers/sse.js';
import { call } from '../realtime/support.js';
import { createDeck, history, post, socketOf, sseOf, subscribe, unread } from './support.js';

const RATE_MAX = 6;

describe('chat on two instances sharing Redis', () => {
  let redis: RedisServer;
  let a: TestServer;
  let b: TestServer;
  let env: Record<string, string>;
  let child: ServerProcess | undefined;
  const sockets: JsonWsClient[] = [];
  const streams: SseClient[] = [];
  const ws = async (server: { url: string }, user: string) => {
    const client = await socketOf(server.url, user);
    sockets.push(client);
    return client;
  };

  beforeAll(async () => {
    redis = await startRedis();
    env = {
      DATABASE_URL: await createTestDatabase('chatpair'),
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'chatpair',
      CHAT_TYPING_TIMEOUT_MS: '1500',
      CHAT_RATE_MAX: String(RATE_MAX),
      CHAT_RATE_WINDOW_MS: '60000',
      HTTP_RATE_LIMIT_MAX: '100000',
    };
    a = await startServer(env);
    b = await startServer(env);
    await createDeck(a.url, 'room', 'olga', { cora: 'commenter', vic: 'viewer', ed: 'editor', rae: 'commenter' });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const s of streams) s.close();
    await child?.kill9();
    await Promise.allSettled([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('posted on A, edited and deleted on B: followers on both see every event; history and unread agree', async () => {
    const onA = await ws(a, 'olga');
    const onB = await ws(b, 'vic');
    for (const client of [onA, onB]) expect(await subscribe(client, 'chat.room')).toMatchObject({ type: 'subscribed' });
    const stream = await sseOf(b.url, 'vic', ['chat.room']);
    streams.push(stream);

    const message = (await post(a.url, 'cora', 'room', { text: 'hello from A' })).body;
    await call(b.url, 'PATCH', `/api/v1/chat/${message.id}`, { token: mintToken('cora'), body: { text: 'edited on B' } });
    await call(b.url, 'DELETE', `/api/v1/chat/${message.id}`, { token: mintToken('olga') });
    const kinds = ['chat_message', 'chat_message_updated', 'chat_message_deleted'];
    for (const client of [onA, onB]) {
      await client.waitFor(() => client.messages.filter((m) => kinds.includes(m.type)).length === 3, 5000, 'three events');
      expect(client.messages.filter((m) => kinds.includes(m.type)).map((m) => [m.type, m.text])).toEqual([
        ['chat_message', 'hello from A'],
        ['chat_message_updated', 'edited on B'],
        ['chat_message_deleted', ''],
      ]);
    }
    await stream.waitFor(() => stream.events.filter((e) => kinds.includes(e.json?.type)).length === 3, 5000, 'three events over SSE');

    const kept = (await post(b.url, 'cora', 'room', { text: 'kept' })).body;
    for (const server of [a, b]) {
      expect((await history(server.url, 'vic', 'room')).body.messages.map((m: any) => [m.text, m.deleted])).toEqual([
        ['kept', false],
        ['', true],
      ]);
      expect(await unread(server.url, 'vic', 'room')).toBe(1);
    }
    await onA.waitFor((m) => m.type === 'chat_message' && m.id === kept.id);
  });

  it('typing on A is seen on B once, and stopped on B when the typist disconnects from A or goes quiet', async () => {
    const watcher = await ws(b, 'olga');
    await subscribe(watcher, 'chat.room');
    const typist = await ws(a, 'cora');
    const typing = () => watcher.messages.filter((m) => m.type === 'chat_typing' && m.user_id === 'cora').map((m) => m.typing);
    typist.send({ type: 'chat_typing', presentation_id: 'room', typing: true });
    typist.send({ type: 'chat_typing', presentation_id: 'room', typing: true });
    await watcher.waitFor(() => typing().length === 1);
    typist.close();
    await watcher.waitFor(() => typing().length === 2, 5000, 'typing:false after the disconnect');

    const quiet = await ws(a, 'cora');
    quiet.send({ type: 'chat_typing', presentation_id: 'room', typing: true });
    await watcher.waitFor(() => typing().length === 4, 8000, 'typing:true then typing:false after the timeout');
    expect(typing()).toEqual([true, false, true, false]);
  });

  it('read receipts marked on B are announced on A; the rate limit counts posts on both instances', async () => {
    const onA = await ws(a, 'olga');
    await subscribe(onA, 'chat.room');
    const last = (await post(a.url, 'ed', 'room', { text: 'read me' })).body;
    const reader = await ws(b, 'vic');
    reader.send({ type: 'chat_read', presentation_id: 'room', message_id: last.id });
    await onA.waitFor((m) => m.type === 'chat_read' && m.user_id === 'vic' && m.message_id === last.id);
    expect(await unread(a.url, 'vic', 'room')).toBe(0);

    const statuses: number[] = [];
    for (let i = 0; i <= RATE_MAX; i++) statuses.push((await post(i % 2 ? b.url : a.url, 'rae', 'room', { text: `burst ${i}` })).status);
    expect(statuses).toEqual([...Array(RATE_MAX).fill(201), 429]);
  });

  it('a typist whose instance is killed (-9) is stopped by the other instance', async () => {
    child = await startServerProcess({ ...env, LOG_LEVEL: 'warn' });
    const watcher = await ws(b, 'olga');
    await subscribe(watcher, 'chat.room');
    const typist = await socketOf(child.url, 'ed');
    typist.send({ type: 'chat_typing', presentation_id: 'room', typing: true });
    await watcher.waitFor((m) => m.type === 'chat_typing' && m.user_id === 'ed' && m.typing);
    await child.kill9();
    child = undefined;
    // Nothing is left on the dead instance to say it: B takes the expired lease (timeout + grace) and announces it.
    const stop = await watcher.waitFor((m) => m.type === 'chat_typing' && m.user_id === 'ed' && !m.typing, 15_000, 'typing:false from B');
    expect(stop).toMatchObject({ presentation_id: 'room', user_name: 'ed' });
    expect(watcher.messages.filter((m) => m.type === 'chat_typing' && m.user_id === 'ed').map((m) => m.typing)).toEqual([true, false]);
  });

  it('Redis restarts: no message is lost, live delivery comes back, and a typist still typing is announced again', async () => {
    const follower = await ws(b, 'vic');
    await subscribe(follower, 'chat.room');
    const stream = await sseOf(b.url, 'vic', ['chat.room']);
    streams.push(stream);
    const typist = await ws(a, 'cora');
    const renew = setInterval(() => typist.send({ type: 'chat_typing', presentation_id: 'room', typing: true }), 300);
    try {
      await follower.waitFor((m) => m.type === 'chat_typing' && m.user_id === 'cora' && m.typing, 5000, 'typing before');
      expect((await post(a.url, 'ed', 'room', { text: 'before the restart' })).status).toBe(201);
      await follower.waitFor((m) => m.text === 'before the restart');

      await redis.stop();
      for (const text of ['during 1', 'during 2']) expect((await post(a.url, 'ed', 'room', { text })).status).toBe(201);
      const atRestart = follower.messages.length;
      redis = await startRedis(redis.port);

      // Live again: a message posted after the restart reaches B's followers on both transports.
      await follower.waitFor(() => false, 500).catch(() => undefined);
      const after = (await post(a.url, 'ed', 'room', { text: 'after the restart' })).body;
      await follower.waitFor((m) => m.type === 'chat_message' && m.id === after.id, 15_000, 'live message after the restart');
      await stream.waitFor((e) => e.json?.id === after.id, 15_000, 'live message over SSE after the restart');
      // What B's followers did not get live was announced as a reset of the channel; nothing is lost in Postgres.
      const seen = follower.messages.slice(atRestart);
      const gotDuring = ['during 1', 'during 2'].every((t) => seen.some((m) => m.text === t));
      const reset = seen.some((m) => m.type === 'reset' && m.channels.includes('chat.room'));
      expect(gotDuring || reset, JSON.stringify(seen).slice(0, 2000)).toBe(true);
      const texts = (await history(b.url, 'vic', 'room', '?limit=10')).body.messages.map((m: any) => m.text);
      expect(texts.slice(0, 4)).toEqual(['after the restart', 'during 2', 'during 1', 'before the restart']);

      // The typist kept typing: the restarted Redis lost the lease, so A announces the typist again.
      await follower.waitFor(
        () => follower.messages.slice(atRestart).some((m) => m.type === 'chat_typing' && m.user_id === 'cora' && m.typing),
        15_000,
        'typing announced again after the restart',
      );
    } finally {
      clearInterval(renew);
    }
    const typingSince = follower.messages.length;
    await follower.waitFor(
      (m) => m.type === 'chat_typing' && m.user_id === 'cora' && !m.typing,
      10_000,
      'typing ends after the renewals stop',
      typingSince,
    );
  });
});
