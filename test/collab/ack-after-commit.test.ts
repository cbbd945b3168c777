/**
 * The collaboration write path (issue #13): an accepted update is applied and broadcast at once, and the sender's
 * acknowledgement (SyncStatus) waits for its commit. Another Postgres session holds a lock that blocks every INSERT
 * into the update log (reads go on), so "between the broadcast and the commit" is a state the test holds open.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { findSlide, insertSlide, slideText } from '../../shared/presentation.js';
import { jsonOf, openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { blockAllAppends, heldAppends, terminateWaitingAppends, untilAsync as until } from '../helpers/append-hold.js';
import { createTestDatabase, loadFromDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';
import { mintToken, startServer, startServerProcess, type ServerProcess, type TestServer } from '../helpers/server.js';

const appendWaiting = async (databaseUrl: string) => (await heldAppends(databaseUrl, true)) > 0;

const bodyOf = (client: CollabClient, slideId: string) => {
  const slide = findSlide(client.doc, slideId);
  return slide ? slideText(slide, 'body').toString() : '';
};

const write = (client: CollabClient, slideId: string, token: string) => {
  slideText(findSlide(client.doc, slideId)!, 'body').insert(0, token);
};

async function storedBody(databaseUrl: string, presentationId: string, slideId: string): Promise<string> {
  const doc = await loadFromDatabase(databaseUrl, `presentation:${presentationId}`);
  const slide = findSlide(doc, slideId);
  return slide ? slideText(slide, 'body').toString() : '';
}

/** Opens two clients of one user on `presentationId` with a slide `s` both have, acknowledged. */
async function twoEditors(urls: [string, string], presentationId: string, clients: CollabClient[]): Promise<[CollabClient, CollabClient]> {
  const a = openClient({ url: urls[0], presentationId, token: mintToken('ada') });
  const b = openClient({ url: urls[1], presentationId, token: mintToken('ada') });
  clients.push(a, b);
  await Promise.all([waitSynced(a, 20_000), waitSynced(b, 20_000)]);
  insertSlide(a.doc, { id: 's', title: 'slide' });
  await waitAcked(a);
  await waitFor(() => findSlide(b.doc, 's') !== undefined, 10_000, 'the slide on the peer');
  return [a, b];
}

describe('collaboration: peers see an edit at once, the sender’s ack waits for the commit', () => {
  const clients: CollabClient[] = [];
  const servers: TestServer[] = [];
  const processes: ServerProcess[] = [];
  const unlocks: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const unlock of unlocks) await unlock().catch(() => {});
    for (const s of servers) await s.close();
    await Promise.all(processes.map((p) => p.kill9()));
  });

  it('broadcasts while the append waits; acks every edit, in order, only once it is stored', async () => {
    const databaseUrl = await createTestDatabase('ackcommit');
    const server = await startServer({ DATABASE_URL: databaseUrl });
    servers.push(server);
    const [a, b] = await twoEditors([server.wsUrl, server.wsUrl], 'held', clients);
    let acks = 0;
    a.provider.on('unsyncedChanges', ({ number }: { number: number }) => {
      if (number === 0) acks++;
    });

    const unlock = await blockAllAppends(databaseUrl);
    unlocks.push(unlock);
    for (let i = 0; i < 5; i++) write(a, 's', `<${i}>`);
    // The peer has every edit although none is stored yet.
    await waitFor(() => bodyOf(b, 's') === '<4><3><2><1><0>', 10_000, 'the edits on the peer');
    await until(() => appendWaiting(databaseUrl), 'the append to wait on the lock');
    // A second update from the peer, building on the first, is broadcast back while stored after it.
    write(b, 's', '[b]');
    await waitFor(() => bodyOf(a, 's').startsWith('[b]'), 10_000, 'the peer’s edit');
    expect(a.provider.hasUnsyncedChanges).toBe(true);
    expect(b.provider.hasUnsyncedChanges).toBe(true);
    expect(acks).toBe(0);
    expect(await storedBody(databaseUrl, 'held', 's')).toBe('');

    await unlock();
    await Promise.all([waitAcked(a), waitAcked(b)]);
    expect(await storedBody(databaseUrl, 'held', 's')).toBe('[b]<4><3><2><1><0>');
    expect(jsonOf(a.doc)).toBe(jsonOf(b.doc));
  });

  it('an ack held past COLLAB_ACK_TIMEOUT_MS closes the socket with 1013; the client resends and is acked once stored', async () => {
    const databaseUrl = await createTestDatabase('acktimeout');
    const server = await startServer({ DATABASE_URL: databaseUrl, COLLAB_ACK_TIMEOUT_MS: '1000' });
    servers.push(server);
    const [a] = await twoEditors([server.wsUrl, server.wsUrl], 'timeout', clients);
    const closes: number[] = [];
    a.socket.on('close', ({ event }: { event: { code: number } }) => closes.push(event.code));

    const unlock = await blockAllAppends(databaseUrl);
    unlocks.push(unlock);
    write(a, 's', '<late>');
    await waitFor(() => closes.includes(1013), 10_000, 'the socket closed with 1013');
    expect(a.provider.hasUnsyncedChanges).toBe(true);
    await unlock();
    await waitAcked(a, 20_000);
    expect(await storedBody(databaseUrl, 'timeout', 's')).toBe('<late>');
  });

  it('a server edit that cannot be queued (queue full) answers 503; the document is stored whole once there is room, and acks flow again', async () => {
    const databaseUrl = await createTestDatabase('ackrepair');
    const server = await startServer({ DATABASE_URL: databaseUrl, COLLAB_APPEND_QUEUE_BYTES: String(64 * 1024), AUTO_CREATE_PRESENTATIONS: 'true' });
    servers.push(server);
    const [a] = await twoEditors([server.wsUrl, server.wsUrl], 'repair', clients);
    const unlock = await blockAllAppends(databaseUrl);
    unlocks.push(unlock);
    // 40 KB waiting in the queue (then deleted again, so the document's state stays small).
    write(a, 's', 'x'.repeat(40_000));
    slideText(findSlide(a.doc, 's')!, 'body').delete(0, 40_000);
    await until(() => appendWaiting(databaseUrl), 'the append to wait on the lock');
    // 30 KB more does not fit: applied (a Yjs client sees it), not stored, 503.
    const res = await fetch(`${server.url}/api/v1/presentations/repair/operations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mintToken('ada')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ operations: [{ type: 'add_slide', slide_id: 'big', content: { title: 'y'.repeat(30_000) } }] }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error_code: string }).error_code).toBe('SERVICE_UNAVAILABLE');
    await waitFor(() => findSlide(a.doc, 'big') !== undefined, 10_000, 'the applied operation on the editor');
    write(a, 's', '<after>');

    await unlock();
    await waitAcked(a, 20_000);
    const stored = await loadFromDatabase(databaseUrl, 'presentation:repair');
    expect(findSlide(stored, 'big')).toBeDefined();
    expect(slideText(findSlide(stored, 's')!, 'body').toString()).toBe('<after>');
  });

  it('kill -9 between the broadcast and the commit: after the restart the document converges and nothing acknowledged is lost', async () => {
    const databaseUrl = await createTestDatabase('ackkill');
    const env = { DATABASE_URL: databaseUrl, PORT: String(await freePort()), LOG_LEVEL: 'warn' };
    const first = await startServerProcess(env);
    processes.push(first);
    const [a, b] = await twoEditors([first.wsUrl, first.wsUrl], 'killed', clients);
    write(a, 's', '<acked>');
    await waitAcked(a);

    const unlock = await blockAllAppends(databaseUrl);
    unlocks.push(unlock);
    write(a, 's', '<in flight>');
    await waitFor(() => bodyOf(b, 's') === '<in flight><acked>', 10_000, 'the broadcast on the peer');
    await until(() => appendWaiting(databaseUrl), 'the append to wait on the lock');
    expect(a.provider.hasUnsyncedChanges).toBe(true);
    await first.kill9();
    await terminateWaitingAppends(databaseUrl);
    await unlock();
    expect(await storedBody(databaseUrl, 'killed', 's')).toBe('<acked>');

    const second = await startServerProcess(env);
    processes.push(second);
    await Promise.all([waitAcked(a, 30_000), waitAcked(b, 30_000)]);
    expect(await storedBody(databaseUrl, 'killed', 's')).toBe('<in flight><acked>');
    const fresh = openClient({ url: second.wsUrl, presentationId: 'killed', token: mintToken('ada') });
    clients.push(fresh);
    await waitSynced(fresh);
    expect(jsonOf(fresh.doc)).toBe(jsonOf(a.doc));
    expect(jsonOf(b.doc)).toBe(jsonOf(a.doc));
  }, 300_000); // two cold starts

  it('two instances, the sender’s dies before its commit: the survivor acks the reconnected sender only once it stored the edit itself', async () => {
    const databaseUrl = await createTestDatabase('ackcrash');
    const env = { DATABASE_URL: databaseUrl, REDIS_URL: inject('redisUrl'), REDIS_PREFIX: `ackcrash${Date.now()}`, LOG_LEVEL: 'warn' };
    const [one, two] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    processes.push(one!, two!);
    const [a, b] = await twoEditors([one!.wsUrl, two!.wsUrl], 'crashed', clients);

    const unlock = await blockAllAppends(databaseUrl);
    unlocks.push(unlock);
    write(a, 's', '<relayed>');
    await waitFor(() => bodyOf(b, 's') === '<relayed>', 10_000, 'the relay on the other instance');
    await until(() => appendWaiting(databaseUrl), 'the appends to wait on the lock');
    await one!.kill9();
    await terminateWaitingAppends(databaseUrl);
    a.destroy();

    // The sender comes back on the survivor, which holds the edit in memory (relayed, never stored by the dead
    // instance): nothing new to send, and yet its ack must wait for the survivor's own append of the edit.
    const back = openClient({ url: two!.wsUrl, presentationId: 'crashed', token: mintToken('ada'), doc: a.doc });
    clients.push(back);
    await waitFor(() => back.provider.isSynced, 20_000, 'the sender back on the survivor');
    await until(() => appendWaiting(databaseUrl), 'the survivor’s append to wait on the lock');
    expect(back.provider.hasUnsyncedChanges).toBe(true);

    await unlock();
    await waitAcked(back, 20_000);
    // Acknowledged: in Postgres now, whatever happens to the clients and the survivor.
    back.destroy();
    b.destroy();
    await two!.kill9();
    expect(await storedBody(databaseUrl, 'crashed', 's')).toBe('<relayed>');
  }, 300_000); // two cold starts
});
