import { afterAll, describe, expect, it } from 'vitest';
import type { SessionState } from '../../client/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';
import { startServerProcess, type ServerProcess } from '../helpers/server.js';
import { destroyClients, sdkClient, waitFor } from './support.js';

describe('SDK: the server restarts', () => {
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    destroyClients();
    for (const server of servers) await server.kill9();
  });

  it('reconnects to the restarted server (same port) and delivers the edits made while it was down', async () => {
    const env = { DATABASE_URL: await createTestDatabase('sdkrestart'), PORT: String(await freePort()), LOG_LEVEL: 'warn' };
    const first = await startServerProcess(env);
    servers.push(first);
    const deck = sdkClient(first.url, 'frank').openPresentation('restart');
    const states: SessionState[] = [];
    deck.onState((state) => states.push(state));
    await deck.whenSynced();
    const slideId = deck.slides.add({ title: 'Before' });
    await waitFor(() => deck.state.unsyncedChanges === 0, 5000, 'first edit acknowledged');

    expect((await first.terminate()).code).toBe(0);
    await waitFor(() => deck.state.status !== 'connected', 5000, 'disconnected');
    deck.slides.title(slideId).insert(6, ' and after');
    const offline = deck.slides.add({ title: 'Written offline' });
    expect(deck.state.unsyncedChanges).toBeGreaterThan(0);
    expect(deck.state.synced).toBe(false);

    const second = await startServerProcess(env);
    servers.push(second);
    await waitFor(() => deck.state.synced && deck.state.unsyncedChanges === 0, 20_000, 'offline edits acknowledged by the new process');
    expect(states.some((s) => s.status === 'disconnected')).toBe(true);

    // What the restarted server stored, seen by a fresh client.
    const fresh = sdkClient(second.url, 'frank').openPresentation('restart');
    await fresh.whenSynced();
    expect(fresh.slides.list()).toEqual([
      { id: slideId, title: 'Before and after' },
      { id: offline, title: 'Written offline' },
    ]);
  }, 300_000); // two cold starts
});
