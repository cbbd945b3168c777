/**
 * When a document's log is compacted, seen in Postgres through the real server: after COMPACT_AFTER_UPDATES appends
 * while its clients stay connected (not sooner than 10 s after the first, then at most once per 10 s per document),
 * and when its last client leaves. Client changes schedule no debounced store
 * (server/collab/store-scheduling.ts), so both come from the count of appends and the unload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { getSlides, insertSlide } from '../../shared/presentation.js';
import { untilAsync } from '../helpers/append-hold.js';
import { openClient, waitAcked, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase, loadFromDatabase, queryDb } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';

const COMPACT_AFTER = 5;

describe('compaction schedule', () => {
  let databaseUrl: string;
  let server: TestServer;
  const clients: CollabClient[] = [];
  beforeAll(async () => {
    databaseUrl = await createTestDatabase('compaction');
    server = await startServer({ DATABASE_URL: databaseUrl, COMPACT_AFTER_UPDATES: String(COMPACT_AFTER) });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
  });

  const slideIds = (doc: Y.Doc) => getSlides(doc).map((slide) => slide.get('id'));
  const rowsOf = async (name: string) => (await queryDb(databaseUrl, 'SELECT seq FROM document_updates WHERE name = $1', [name])).length;
  const hasSnapshot = async (name: string) =>
    (await queryDb(databaseUrl, 'SELECT 1 FROM documents WHERE name = $1 AND snapshot IS NOT NULL', [name])).length === 1;

  it('folds the log once enough updates were appended, while the document stays loaded', async () => {
    const name = 'presentation:count';
    const writer = openClient({ url: server.wsUrl, presentationId: 'count', token: mintToken('alice') });
    clients.push(writer);
    await waitSynced(writer);
    for (let i = 0; i < COMPACT_AFTER * 2 + 1; i++) {
      insertSlide(writer.doc, { id: `s${i}`, title: `slide ${i}` });
      await waitAcked(writer);
    }
    // Due from the fifth append, run 10 s after the first: everything written by then is folded.
    await untilAsync(async () => (await hasSnapshot(name)) && (await rowsOf(name)) === 0, 'a compaction while connected', 20_000);
    expect(server.app.deckhand.collab.hocuspocus.documents.has(name)).toBe(true);
    expect(server.app.deckhand.collab.persistence.stats.compactions).toBe(1);
    const stored = await loadFromDatabase(databaseUrl, name);
    expect(slideIds(stored)).toHaveLength(COMPACT_AFTER * 2 + 1);
    expect(slideIds(stored)).toEqual(slideIds(writer.doc));
  });

  it('folds every row when the last client leaves', async () => {
    const name = 'presentation:leave';
    const writer = openClient({ url: server.wsUrl, presentationId: 'leave', token: mintToken('alice') });
    clients.push(writer);
    await waitSynced(writer);
    insertSlide(writer.doc, { id: 'only', title: 'one edit, under the count' });
    await waitAcked(writer);
    expect(await rowsOf(name)).toBe(1);
    writer.destroy();
    await untilAsync(async () => !server.app.deckhand.collab.hocuspocus.documents.has(name), 'the document unloaded');
    expect(await rowsOf(name)).toBe(0);
    expect(await hasSnapshot(name)).toBe(true);
    expect(slideIds(await loadFromDatabase(databaseUrl, name))).toEqual(['only']);
  });
});
