import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { openClient, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { startPair, type TestPair } from '../helpers/cluster.js';
import { mintToken, type TestServer } from '../helpers/server.js';

describe('per-user collaboration connections across instances', () => {
  let a: TestServer;
  let b: TestServer;
  let pair: TestPair | undefined;
  const clients: CollabClient[] = [];
  beforeAll(async () => {
    pair = await startPair('climit', { WEBSOCKET_MAX_CONNECTIONS_PER_USER: '2' });
    ({ a, b } = pair);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await pair?.close();
  });

  it('refuses a third socket of the same user on the other instance with RATE_LIMIT_EXCEEDED, and admits one after a close', async () => {
    const open = (server: TestServer, user = 'alice') => {
      const c = openClient({ url: server.wsUrl, presentationId: 'limited', token: mintToken(user) });
      clients.push(c);
      return c;
    };
    const first = open(a);
    await waitSynced(first);
    // A second document on the same socket shares its slot.
    const second = new HocuspocusProvider({ websocketProvider: first.socket, name: 'presentation:limited-2', token: mintToken('alice') });
    second.attach();
    await waitFor(() => second.isSynced, 5000, 'second document on the same socket');
    const other = open(a);
    await waitSynced(other);

    const third = open(b);
    await waitFor(() => third.authFailures.length > 0, 5000, 'third refused');
    expect(third.authFailures[0]).toBe('RATE_LIMIT_EXCEEDED');
    // Another user is not affected.
    const bob = open(b, 'bob');
    await waitFor(() => bob.provider.isSynced || bob.authFailures.length > 0, 5000, 'bob answered');
    expect(bob.authFailures).not.toContain('RATE_LIMIT_EXCEEDED');

    second.destroy();
    other.destroy();
    const fourth = open(b);
    await waitSynced(fourth, 10_000);
    expect(fourth.authFailures).toEqual([]);
  });
});
