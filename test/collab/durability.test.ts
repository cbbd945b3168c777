import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { getSlides, insertSlide, slideText } from '../../shared/presentation.js';
import { openClient, jsonOf, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase, queryDb } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';
import { mintToken, startServerProcess, type ServerProcess } from '../helpers/server.js';

const clients: CollabClient[] = [];
const processes: ServerProcess[] = [];
afterAll(async () => {
  for (const c of clients) c.destroy();
  await Promise.all(processes.map((p) => p.kill9()));
});

async function readBack(wsUrl: string, presentationId: string): Promise<Y.Doc> {
  const reader = openClient({ url: wsUrl, presentationId, token: mintToken('alice') });
  clients.push(reader);
  await waitSynced(reader, 20_000);
  return reader.doc;
}

describe('durability', () => {
  it('an acknowledged edit survives kill -9 of the server and a restart', async () => {
    const databaseUrl = await createTestDatabase('kill');
    const port = String(await freePort());
    const first = await startServerProcess({ DATABASE_URL: databaseUrl, PORT: port });
    processes.push(first);
    const writer = openClient({ url: first.wsUrl, presentationId: 'k1', token: mintToken('alice') });
    clients.push(writer);
    await waitSynced(writer);
    insertSlide(writer.doc, { id: 's1', title: 'before the crash' });
    for (let i = 0; i < 50; i++) slideText(getSlides(writer.doc).get(0), 'body').insert(0, `${i},`);
    await waitAcked(writer);
    const expected = jsonOf(writer.doc);
    writer.destroy();

    await first.kill9(); // no shutdown hook, no flush: only what was durable before the ack survives

    const second = await startServerProcess({ DATABASE_URL: databaseUrl, PORT: port });
    processes.push(second);
    const doc = await readBack(second.wsUrl, 'k1');
    expect(jsonOf(doc)).toBe(expected);
    await second.terminate();
  }, 300_000); // two cold starts

  it('the embedded default (PGlite) keeps a document across a graceful restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'deckhand-pglite-'));
    try {
      const env = { DATA_DIR: dataDir, DATABASE_URL: '', JWT_SECRET: '', NODE_ENV: 'development' };
      const first = await startServerProcess(env);
      processes.push(first);
      expect(first.output()).toContain('PGlite');
      expect(first.output()).toContain('npm run token -- alice');
      // The dev secret lives in DATA_DIR; mint with it as `npm run token` would.
      const { readFileSync } = await import('node:fs');
      const secret = readFileSync(join(dataDir, '.dev-jwt-secret'), 'utf8').trim();
      const token = mintToken('alice', { secret });
      const writer = openClient({ url: first.wsUrl, presentationId: 'embedded', token });
      clients.push(writer);
      await waitSynced(writer);
      insertSlide(writer.doc, { id: 'e1', title: 'kept by PGlite' });
      await waitAcked(writer);
      const expected = jsonOf(writer.doc);
      writer.destroy();
      const stopped = await first.terminate();
      expect(stopped.code).toBe(0);

      const second = await startServerProcess(env);
      processes.push(second);
      const reader = openClient({ url: second.wsUrl, presentationId: 'embedded', token });
      clients.push(reader);
      await waitSynced(reader, 20_000);
      expect(jsonOf(reader.doc)).toBe(expected);
      reader.destroy();
      expect((await second.terminate()).code).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 300_000); // two cold starts (PGlite's initdb, then its recovery)

  it('graceful shutdown closes sockets with 1012, compacts, and exits within SHUTDOWN_TIMEOUT_MS', async () => {
    const databaseUrl = await createTestDatabase('grace');
    const server = await startServerProcess({ DATABASE_URL: databaseUrl, SHUTDOWN_TIMEOUT_MS: '5000' });
    processes.push(server);
    const writers = ['g1', 'g2', 'g3'].map((id) => openClient({ url: server.wsUrl, presentationId: id, token: mintToken('alice') }));
    clients.push(...writers);
    await Promise.all(writers.map((w) => waitSynced(w)));
    // The first close of each writer: the provider then retries, and its failed attempts close too (1006).
    const closeCodes: number[] = [];
    for (const w of writers) {
      let closed = false;
      w.socket.on('close', ({ event }: { event: { code: number } }) => {
        if (!closed) closeCodes.push(event.code);
        closed = true;
      });
      insertSlide(w.doc, { id: 'x', title: 'flushed' });
    }
    await Promise.all(writers.map((w) => waitAcked(w)));
    const { code, ms } = await server.terminate();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(5000);
    await waitFor(() => closeCodes.length === 3, 2000, 'close events');
    expect(closeCodes).toEqual([1012, 1012, 1012]);
    // Every document was folded into a snapshot when it left memory.
    const snapshots = await queryDb<{ name: string }>(databaseUrl, 'SELECT name FROM documents WHERE snapshot IS NOT NULL ORDER BY name');
    expect(snapshots.map((r) => r.name)).toEqual(['presentation:g1', 'presentation:g2', 'presentation:g3']);
    const log = await queryDb(databaseUrl, 'SELECT seq FROM document_updates');
    expect(log).toHaveLength(0);
  });

  it('exits within SHUTDOWN_TIMEOUT_MS even when Postgres is unreachable', async () => {
    const { startPostgres } = await import('../helpers/postgres.js');
    // A private Postgres we can stop mid-session.
    const pg = await startPostgres();
    try {
      const server = await startServerProcess({ DATABASE_URL: pg.url, SHUTDOWN_TIMEOUT_MS: '3000' });
      processes.push(server);
      const writer = openClient({ url: server.wsUrl, presentationId: 'down1', token: mintToken('alice') });
      clients.push(writer);
      await waitSynced(writer);
      insertSlide(writer.doc, { id: 'a', title: 'stored' });
      await waitAcked(writer);
      pg.stop();
      insertSlide(writer.doc, { id: 'b', title: 'never acknowledged' });
      await new Promise((r) => setTimeout(r, 300));
      expect(writer.provider.hasUnsyncedChanges).toBe(true);
      const { ms } = await server.terminate();
      expect(ms).toBeLessThan(3000 + 1500);
      expect(server.output()).toContain('updates could not be stored');
    } finally {
      try {
        pg.stop();
      } catch {
        /* already stopped */
      }
    }
  });
});
