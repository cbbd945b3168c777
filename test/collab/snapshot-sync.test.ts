/**
 * Cold load: a client that opens a document still equal to its stored snapshot is answered with the snapshot's bytes
 * (server/collab/snapshot-sync.ts); any other state is answered by Hocuspocus' own encode, and a corrupt snapshot is
 * still skipped whole, never served.
 */
import * as decoding from 'lib0/decoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { getSlides, insertSlide, slideText } from '../../shared/presentation.js';
import { snapshotChecksum } from '../../server/store/documents.js';
import { jsonOf, openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase, queryDb } from '../helpers/database.js';
import { authFrame, MessageType, rawClient, syncFrame, type RawClient } from '../helpers/hocuspocus-frames.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';

/**
 * A snapshot as an older server could have written it: from a document without garbage collection, so deleted text
 * keeps its content. Loaded into Hocuspocus' (collected) document and encoded again, it comes out as different bytes
 * with the same content: which of the two a client is sent tells who answered it.
 */
function uncollectedSnapshot(): Uint8Array {
  const doc = new Y.Doc({ gc: false });
  insertSlide(doc, { id: 's1', title: 'Cold', body: 'loaded from the snapshot' });
  insertSlide(doc, { id: 's2', title: 'Second' });
  const body = slideText(getSlides(doc).get(0), 'body');
  body.delete(0, 7); // "loaded " deleted, its content kept
  const snapshot = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return snapshot;
}

/** The SyncStep2 payloads a raw client was sent. */
function syncStep2s(client: RawClient): Uint8Array[] {
  const found: Uint8Array[] = [];
  for (const message of client.received) {
    const decoder = decoding.createDecoder(message);
    decoding.readVarString(decoder);
    if (decoding.readVarUint(decoder) !== MessageType.Sync || decoding.readVarUint(decoder) !== 1) continue;
    found.push(decoding.readVarUint8Array(decoder));
  }
  return found;
}

function contentOf(update: Uint8Array): string {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return jsonOf(doc);
}

describe('cold load: the first sync from the stored snapshot', () => {
  let server: TestServer;
  let databaseUrl: string;
  const clients: CollabClient[] = [];
  const raws: RawClient[] = [];
  const stats = () => server.app.deckhand.collab.persistence.stats;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('snapsync');
    server = await startServer({ DATABASE_URL: databaseUrl });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const r of raws) r.ws.terminate();
    await server?.close();
  });

  /** Creates presentation `id` (alice owns it) and leaves it unloaded with exactly `snapshot` stored, and no log. */
  async function storedAs(id: string, snapshot: Uint8Array, checksum = snapshotChecksum(snapshot)): Promise<void> {
    const owner = openClient({ url: server.wsUrl, presentationId: id, token: mintToken('alice') });
    await waitSynced(owner);
    owner.destroy();
    await unloaded(id);
    const name = `presentation:${id}`;
    await queryDb(databaseUrl, 'DELETE FROM document_updates WHERE name = $1', [name]);
    await queryDb(
      databaseUrl,
      `INSERT INTO documents (name, snapshot, snapshot_sha256) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET snapshot = EXCLUDED.snapshot, snapshot_sha256 = EXCLUDED.snapshot_sha256`,
      [name, Buffer.from(snapshot), checksum],
    );
  }

  async function unloaded(id: string): Promise<void> {
    await waitFor(() => !server.app.deckhand.collab.hocuspocus.documents.has(`presentation:${id}`), 10_000, 'document unloaded');
  }

  /**
   * A raw client that opens `id` with nothing (SyncStep1, empty state vector; `emptyAgain`: twice), then asks again
   * with a state vector that is not empty (a client id the document does not have), which Hocuspocus always answers
   * itself. Frames are handled in order: once the last answer is in, every answer before it is too.
   */
  async function openRaw(id: string, emptyAgain = false): Promise<Uint8Array[]> {
    const raw = await rawClient(server.wsUrl);
    raws.push(raw);
    const name = `presentation:${id}`;
    const foreign = new Y.Doc();
    foreign.clientID = 424242;
    foreign.getMap('scratch').set('k', 1);
    raw.send(authFrame(name, mintToken('alice')));
    raw.send(syncFrame(name, 0, Uint8Array.of(0)));
    if (emptyAgain) raw.send(syncFrame(name, 0, Uint8Array.of(0)));
    raw.send(syncFrame(name, 0, Y.encodeStateVector(foreign)));
    const answers = emptyAgain ? 3 : 2;
    await waitFor(() => syncStep2s(raw).length >= answers, 10_000, 'every answer');
    raw.ws.close();
    return syncStep2s(raw);
  }

  it('a client that has nothing is sent the stored snapshot, once, and a real provider ends with the same document', async () => {
    const snapshot = uncollectedSnapshot();
    await storedAs('cold1', snapshot);
    const before = stats().snapshotSyncs;

    const [first, second, ...more] = await openRaw('cold1');
    expect(more).toHaveLength(0); // answered once, not by the snapshot and Hocuspocus both
    expect(Buffer.from(first!).equals(Buffer.from(snapshot))).toBe(true);
    // Hocuspocus' own answer (the second question) is the collected document: other bytes, the same content.
    expect(Buffer.from(second!).equals(Buffer.from(snapshot))).toBe(false);
    expect(contentOf(first!)).toBe(contentOf(second!));
    expect(stats().snapshotSyncs).toBe(before + 1);

    // Only a connection's opening SyncStep1 is answered from the snapshot: a second one (a resync, which the ack
    // gate must see) goes to Hocuspocus.
    const [opening, resync, last, ...extra] = await openRaw('cold1', true);
    expect(extra).toHaveLength(0);
    expect(Buffer.from(opening!).equals(Buffer.from(snapshot))).toBe(true);
    expect(Buffer.from(resync!).equals(Buffer.from(snapshot))).toBe(false);
    expect(contentOf(resync!)).toBe(contentOf(last!));
    expect(stats().snapshotSyncs).toBe(before + 2);

    // A provider's handshake (its own empty SyncStep2) changes nothing: it is served from the snapshot too, and
    // the document it ends with is the stored one.
    const reader = openClient({ url: server.wsUrl, presentationId: 'cold1', token: mintToken('alice') });
    clients.push(reader);
    await waitSynced(reader);
    expect(stats().snapshotSyncs).toBe(before + 3);
    expect(jsonOf(reader.doc)).toBe(contentOf(snapshot));
    expect(slideText(getSlides(reader.doc).get(0), 'body').toString()).toBe('from the snapshot');

    // Once the document changed, a newcomer gets Hocuspocus' encode of the changed document, edit included.
    slideText(getSlides(reader.doc).get(1), 'title').insert(0, 'Edited ');
    await waitAcked(reader);
    const [fresh, ...rest] = await openRaw('cold1');
    expect(rest).toHaveLength(1);
    expect(stats().snapshotSyncs).toBe(before + 3);
    expect(contentOf(fresh!)).toBe(jsonOf(reader.doc));
    expect(contentOf(fresh!)).toContain('Edited Second');
    reader.destroy();
    await unloaded('cold1');
  });

  it('a snapshot with log rows after it is not served alone: the client gets both', async () => {
    const snapshot = uncollectedSnapshot();
    await storedAs('cold2', snapshot);
    const edit = new Y.Doc();
    Y.applyUpdate(edit, snapshot);
    const before = Y.encodeStateVector(edit);
    slideText(getSlides(edit).get(1), 'title').insert(0, 'Logged ');
    await queryDb(databaseUrl, 'INSERT INTO document_updates (name, update) VALUES ($1, $2)', [
      'presentation:cold2',
      Buffer.from(Y.encodeStateAsUpdate(edit, before)),
    ]);
    const served = stats().snapshotSyncs;

    const [first] = await openRaw('cold2');
    expect(stats().snapshotSyncs).toBe(served);
    expect(contentOf(first!)).toBe(jsonOf(edit));
    await unloaded('cold2');
  });

  it('a corrupt snapshot (its checksum no longer matches) is skipped whole and never served', async () => {
    const snapshot = uncollectedSnapshot();
    // The delete set cut off: applied unchecked, the structs would be integrated before the decoder fails.
    await storedAs('cold3', snapshot.subarray(0, snapshot.byteLength - 3), snapshotChecksum(snapshot));
    const served = stats().snapshotSyncs;
    const badRows = stats().badRows;

    const [first] = await openRaw('cold3');
    expect(stats().badRows).toBe(badRows + 1);
    expect(stats().snapshotSyncs).toBe(served);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, first!);
    expect(getSlides(doc).length).toBe(0); // nothing of the bad snapshot, not even its structs
    await unloaded('cold3');
  });
});
