/**
 * The SDK's chat (`client.chat(id)`) as two users would use it, over WebSocket and over SSE (the fallback): send,
 * history, edit, delete, live events, typing with the typists list, read marks and unread counts; after the network
 * drops, the room says `reset` and live events resume.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, ChatReadMark } from '../../client/index.js';
import { startProxy, type TestProxy } from '../client/proxy.js';
import { destroyClients, sdkClient, waitFor } from '../client/support.js';
import { createTestDatabase } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createDeck, eventually } from './support.js';

/**
 * Sends a probe message until `arrived` holds, waiting up to a second for each: a room only says when it is live
 * again, not when it first is. At most ten probes, well under the chat rate limit (20 per 10 s per user).
 */
async function probeUntil(send: (i: number) => Promise<unknown>, arrived: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await send(i);
    const deadline = Date.now() + 1000;
    while (!arrived() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (arrived()) return;
  }
  throw new Error(`no probe arrived: ${what}`);
}

describe('SDK chat', () => {
  let server: TestServer;
  let proxy: TestProxy;

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('chatsdk') });
    proxy = await startProxy(server.url);
  });
  afterEach(() => destroyClients());
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
  });

  it.each(['websocket', 'sse'] as const)('two users chat over %s: messages, edits, deletes, typing, read marks, unread', async (transport) => {
    const deck = `sdk-${transport}`;
    await createDeck(server.url, deck, 'olga', { cora: 'commenter' });
    const olga = sdkClient(server.url, 'olga', { channelsTransport: transport }).chat(deck);
    const cora = sdkClient(server.url, 'cora', { channelsTransport: transport }).chat(deck);
    const seen: { kind: string; message: ChatMessage }[] = [];
    for (const kind of ['message', 'updated', 'deleted'] as const) olga.on(kind, (message) => seen.push({ kind, message }));
    const reads: ChatReadMark[] = [];
    cora.on('read', (mark) => reads.push(mark));
    const typingSeen: boolean[] = [];
    olga.on('typing', (t) => t.user_id === 'cora' && typingSeen.push(t.typing));
    // Both rooms live before anything is said (a first message on a stream not yet subscribed is in the history).
    await eventually(() => {
      cora.typing();
      return olga.typists().some((t) => t.user_id === 'cora');
    }, 'cora typing seen by olga');
    expect(olga.typists()).toEqual([{ user_id: 'cora', user_name: 'Cora' }]);

    const hello = await cora.send('Hello Olga');
    expect(hello).toMatchObject({ text: 'Hello Olga', user_name: 'Cora', presentation_id: deck });
    await waitFor(() => olga.typists().length === 0, 5000, 'typing stopped by sending');
    await waitFor(() => seen.some((s) => s.kind === 'message' && s.message.id === hello.id), 5000, 'message live');
    const answer = await olga.send('Hi Cora', { replyTo: hello.id });
    expect(answer.reply_to).toBe(hello.id);
    expect(await cora.unread()).toBe(1);

    await cora.edit(hello.id, 'Hello, Olga');
    await cora.delete(hello.id);
    await waitFor(() => seen.filter((s) => s.message.id === hello.id).length === 3, 5000, 'edit and delete live');
    expect(seen.filter((s) => s.message.id === hello.id).map((s) => [s.kind, s.message.text, s.message.deleted])).toEqual([
      ['message', 'Hello Olga', false],
      ['updated', 'Hello, Olga', false],
      ['deleted', '', true],
    ]);
    expect(typingSeen[0]).toBe(true);
    expect(typingSeen.at(-1)).toBe(false);

    await olga.markRead(answer.id); // olga's own message: a read mark all the same
    const history = await cora.history();
    expect(history.map((m) => [m.text, m.deleted])).toEqual([
      ['Hi Cora', false],
      ['', true],
    ]);
    await cora.markRead(history[0]!.id);
    await waitFor(() => reads.some((r) => r.user_id === 'cora' && r.message_id === answer.id), 5000, 'own read mark announced');
    expect(await cora.unread()).toBe(0);
    expect((await olga.reads()).map((r) => r.user_id).sort()).toEqual(['cora', 'olga']);
    expect((await cora.history({ before: answer.id, limit: 1 })).map((m) => m.id)).toEqual([hello.id]);
    await expect(sdkClient(server.url, 'sam').chat(deck).send('let me in')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('a proxy that refuses WebSockets: rooms fall back to SSE, and a second room joins the same stream', async () => {
    await createDeck(server.url, 'nows1', 'olga', { cora: 'commenter' });
    await createDeck(server.url, 'nows2', 'olga', { cora: 'commenter' });
    proxy.refuseWebSockets = true;
    try {
      const client = sdkClient(proxy.url, 'olga');
      const texts: string[] = [];
      client.chat('nows1').on('message', (m) => texts.push(m.text));
      const cora = sdkClient(server.url, 'cora');
      await probeUntil(
        (i) => cora.chat('nows1').send(`one ${i}`),
        () => texts.length > 0,
        'the first room live over SSE',
      );
      client.chat('nows2').on('message', (m) => texts.push(m.text));
      await probeUntil(
        () => cora.chat('nows2').send('two'),
        () => texts.includes('two'),
        'the second room live over SSE',
      );
      await cora.chat('nows1').send('one again');
      await eventually(() => texts.includes('one again'), 'the first room still live');
    } finally {
      proxy.refuseWebSockets = false;
    }
  });

  it('after the network drops, the room says reset and live events resume', async () => {
    await createDeck(server.url, 'drops', 'olga', { cora: 'commenter' });
    const room = sdkClient(proxy.url, 'olga').chat('drops');
    const cora = sdkClient(server.url, 'cora').chat('drops');
    const texts: string[] = [];
    let resets = 0;
    room.on('message', (m) => texts.push(m.text));
    room.on('reset', () => resets++);
    await probeUntil(
      (i) => cora.send(`probe ${i}`),
      () => texts.length > 0,
      'olga live',
    );
    proxy.dropAll();
    await waitFor(() => resets === 1, 10_000, 'reset after the reconnection');
    await cora.send('after the drop');
    await waitFor(() => texts.includes('after the drop'), 10_000, 'live again');
  });

  it('says reset only once the server follows the room again: a message sent at the reset is delivered live', async () => {
    // A sender of its own: the other tests' probes count against cora's chat rate limit (20 per 10 s).
    await createDeck(server.url, 'slowsub', 'olga', { dana: 'commenter' });
    const room = sdkClient(proxy.url, 'olga').chat('slowsub');
    const dana = sdkClient(server.url, 'dana').chat('slowsub');
    const sendErrors: unknown[] = [];
    const texts: string[] = [];
    let resets = 0;
    room.on('message', (m) => texts.push(m.text));
    room.on('reset', () => {
      resets++;
      dana.send('sent at the reset').catch((err: unknown) => sendErrors.push(err));
    });
    await probeUntil(
      (i) => dana.send(`probe ${i}`),
      () => texts.length > 0,
      'olga live',
    );
    // The reconnected socket is open, but its subscribe_channel has not reached the server yet.
    proxy.holdUpstream = true;
    try {
      proxy.dropAll();
      await waitFor(() => proxy.heldBytes > 0, 10_000, 'the resubscription sent');
      expect(resets).toBe(0);
    } finally {
      proxy.releaseUpstream();
    }
    await waitFor(() => resets === 1, 10_000, 'reset after the resubscription');
    await waitFor(() => texts.includes('sent at the reset') || sendErrors.length > 0, 10_000, 'the message sent at the reset');
    expect(sendErrors).toEqual([]);
  });
});
