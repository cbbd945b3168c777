/**
 * Issue #11: /collab bounds the bytes in flight per connection. While Postgres is down every update waits for its
 * append, and Hocuspocus queues the frames behind it; a socket that keeps sending past COLLAB_MAX_INFLIGHT_BYTES is
 * closed with 4429 (RATE_LIMIT_EXCEEDED, reconnect after a pause), and nobody else is affected.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { CLOSE_CODES } from '../../shared/errors.js';
import { findSlide, insertSlide, slideText } from '../../shared/presentation.js';
import { openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { loadFromDatabase } from '../helpers/database.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { openRawWriter } from '../helpers/raw-writer.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';

describe('/collab: bytes in flight per connection', () => {
  let pg: PostgresServer | undefined;
  let server: TestServer | undefined;
  const clients: CollabClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
    pg?.stop();
  });

  it('closes a socket whose frames waiting for their appends pass the limit; others keep working', async () => {
    pg = await startPostgres();
    server = await startServer({ DATABASE_URL: pg.url, COLLAB_MAX_FRAME_BYTES: String(32 * 1024), COLLAB_MAX_INFLIGHT_BYTES: String(128 * 1024) });
    const honest = openClient({ url: server.wsUrl, presentationId: 'flood', token: mintToken('alice') });
    clients.push(honest);
    await waitSynced(honest);
    insertSlide(honest.doc, { id: 's1', title: 'kept' });
    await waitAcked(honest);

    // The flooder: valid updates of ~20 KB each, one after the other, from a copy of the document.
    const flooder = await openRawWriter(server.wsUrl, 'flood', mintToken('alice'));
    const local = new Y.Doc();
    Y.applyUpdate(local, Y.encodeStateAsUpdate(honest.doc));
    const updates: Uint8Array[] = [];
    local.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 12; i++) slideText(findSlide(local, 's1')!, 'body').insert(0, String.fromCharCode(97 + i).repeat(20_000));

    pg.pause(); // every append now waits (and retries): frames pile up behind the first
    let closeCode: number | undefined;
    void flooder.raw.closed.then((code) => (closeCode = code));
    for (const update of updates) flooder.send(update);
    await waitFor(() => closeCode !== undefined, 10_000, 'the flooder closed');
    expect(closeCode).toBe(CLOSE_CODES.BACKLOG_EXCEEDED.code);
    expect(CLOSE_CODES.BACKLOG_EXCEEDED.code).toBe(4429);

    // The honest client was not touched: still connected, and its edit goes through once Postgres is back.
    expect(honest.provider.isSynced).toBe(true);
    slideText(findSlide(honest.doc, 's1')!, 'title').insert(0, 'still ');
    pg.resume();
    await waitAcked(honest, 60_000);
    const stored = await loadFromDatabase(pg.url, 'presentation:flood');
    expect(slideText(findSlide(stored, 's1')!, 'title').toString()).toBe('still kept');
  });
});
