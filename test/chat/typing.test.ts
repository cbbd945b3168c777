/**
 * Typing indicators on one instance: announced once however often renewed, stopped by the typist, by posting, by
 * closing the connection, and on their own when not renewed (CHAT_TYPING_TIMEOUT_MS); only writers may type; bad
 * frames get INVALID_MESSAGE. Two servers: one whose timeout is short (expiry), one whose timeout is long (so a stop
 * seen there came from the typist, the post or the disconnect, not from expiry).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import type { JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { call } from '../realtime/support.js';
import { createDeck, post, socketOf, subscribe } from './support.js';

const typingEvents = (client: JsonWsClient, user: string) => client.messages.filter((m) => m.type === 'chat_typing' && m.user_id === user);

describe('typing indicators on one instance', () => {
  let short: TestServer;
  let long: TestServer;
  const sockets: JsonWsClient[] = [];
  const ws = async (server: TestServer, user: string) => {
    const client = await socketOf(server.url, user);
    sockets.push(client);
    return client;
  };

  beforeAll(async () => {
    short = await startServer({ DATABASE_URL: await createTestDatabase('typing'), CHAT_TYPING_TIMEOUT_MS: '1000' });
    long = await startServer({ DATABASE_URL: await createTestDatabase('typing'), CHAT_TYPING_TIMEOUT_MS: '600000' });
    for (const server of [short, long]) await createDeck(server.url, 'deck', 'olga', { cora: 'commenter', vic: 'viewer' });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.all([short?.close(), long?.close()]);
  });

  it('a typing:true renewed three times is announced once, then ends on its own when no longer renewed', async () => {
    const watcher = await ws(short, 'olga');
    await subscribe(watcher, 'chat.deck');
    const typist = await ws(short, 'cora');
    for (let i = 0; i < 3; i++) typist.send({ type: 'chat_typing', presentation_id: 'deck', typing: true });
    const started = await watcher.waitFor((m) => m.type === 'chat_typing' && m.typing === true);
    expect(started).toMatchObject({ presentation_id: 'deck', user_id: 'cora', user_name: 'cora' });
    await watcher.waitFor((m) => m.type === 'chat_typing' && m.typing === false, 5000, 'typing:false after the timeout');
    expect(typingEvents(watcher, 'cora').map((m) => m.typing)).toEqual([true, false]);
    // The socket is still open: it was the timeout, not a disconnect.
    expect(typist.closeInfo).toBeUndefined();
  });

  it('stops when the typist says so, when the typist posts, and when the typist’s connection closes', async () => {
    const watcher = await ws(long, 'olga');
    await subscribe(watcher, 'chat.deck');
    const typist = await ws(long, 'cora');
    /** Runs `action`, then waits for the typing:false it causes. */
    const stopsAfter = async (action: () => unknown, what: string) => {
      const stops = typingEvents(watcher, 'cora').filter((m) => !m.typing).length;
      await action();
      await watcher.waitFor(() => typingEvents(watcher, 'cora').filter((m) => !m.typing).length === stops + 1, 5000, what);
    };

    typist.send({ type: 'chat_typing', presentation_id: 'deck', typing: true });
    await watcher.waitFor((m) => m.type === 'chat_typing' && m.typing);
    await stopsAfter(() => typist.send({ type: 'chat_typing', presentation_id: 'deck', typing: false }), 'typing:false from the typist');

    typist.send({ type: 'chat_typing', presentation_id: 'deck', typing: true });
    await watcher.waitFor(() => typingEvents(watcher, 'cora').length === 3);
    await stopsAfter(
      async () => expect((await post(long.url, 'cora', 'deck', { text: 'done typing' })).status).toBe(201),
      'typing:false when the message is posted',
    );

    typist.send({ type: 'chat_typing', presentation_id: 'deck', typing: true });
    await watcher.waitFor(() => typingEvents(watcher, 'cora').length === 5);
    await stopsAfter(() => typist.close(), 'typing:false when the connection closes');
    expect(typingEvents(watcher, 'cora').map((m) => m.typing)).toEqual([true, false, true, false, true, false]);
  });

  it('one of two tabs stopping does not stop a typist whose other tab still types; REST typing works like the socket', async () => {
    const watcher = await ws(long, 'olga');
    await subscribe(watcher, 'chat.deck');
    const tab1 = await ws(long, 'cora');
    const tab2 = await ws(long, 'cora');
    // A socket handles its messages in order: the pong says its typing:true was handled.
    for (const tab of [tab1, tab2]) {
      tab.send({ type: 'chat_typing', presentation_id: 'deck', typing: true });
      tab.send({ type: 'ping' });
      await tab.waitForType('pong');
    }
    await watcher.waitFor((m) => m.type === 'chat_typing' && m.typing);
    tab1.close();
    await tab1.closed;
    // A marker after the close: if the close had stopped the typist, its typing:false would have come first.
    const rest = await call(long.url, 'POST', '/api/v1/presentations/deck/chat/typing', { token: mintToken('olga'), body: { typing: true } });
    expect(rest.status).toBe(204);
    await watcher.waitFor((m) => m.type === 'chat_typing' && m.user_id === 'olga' && m.typing);
    expect(typingEvents(watcher, 'cora').map((m) => m.typing)).toEqual([true]);
    tab2.close();
    await watcher.waitFor(() => typingEvents(watcher, 'cora').length === 2, 5000, 'stopped with the last tab');
    await call(long.url, 'POST', '/api/v1/presentations/deck/chat/typing', { token: mintToken('olga'), body: { typing: false } });
    await watcher.waitFor((m) => m.type === 'chat_typing' && m.user_id === 'olga' && !m.typing);
  });

  it('viewers and strangers may not type; malformed typing messages get INVALID_MESSAGE', async () => {
    for (const [user, code] of [
      ['vic', 'PERMISSION_DENIED'],
      ['sam', 'PERMISSION_DENIED'],
    ] as const) {
      const client = await ws(short, user);
      client.send({ type: 'chat_typing', presentation_id: 'deck', typing: true });
      expect(await client.waitForType('error'), user).toMatchObject({ error_code: code });
    }
    const client = await ws(short, 'cora');
    const bad = [
      { type: 'chat_typing', presentation_id: 'deck' },
      { type: 'chat_typing', presentation_id: 'deck', typing: 'yes' },
      { type: 'chat_typing', typing: true },
      { type: 'chat_typing', presentation_id: 'a/b', typing: true },
      { type: 'chat_typing', presentation_id: 'x'.repeat(200), typing: true },
    ];
    for (const message of bad) {
      const from = client.messages.length;
      client.send(message);
      expect(await client.waitFor((m) => m.type === 'error', 5000, 'error', from), JSON.stringify(message).slice(0, 60)).toMatchObject({
        error_code: 'INVALID_MESSAGE',
      });
    }
    expect(
      (await call(short.url, 'POST', '/api/v1/presentations/deck/chat/typing', { token: mintToken('vic'), body: { typing: true } })).status,
    ).toBe(403);
    expect(
      (await call(short.url, 'POST', '/api/v1/presentations/deck/chat/typing', { token: mintToken('cora'), body: { typing: 'maybe' } })).status,
    ).toBe(400);
    // The socket lives on after all that.
    client.send({ type: 'ping' });
    await client.waitForType('pong');
  });
});
