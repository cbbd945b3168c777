/**
 * Restores across two instances sharing Redis and one database: a restore made on instance A while an editor on
 * instance B keeps typing. Every replica converges (to the version, plus only the keystrokes that were not yet on
 * the server when the restore was computed), nothing is torn, and the stored document after a restart equals it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSlide, getMeta, getSlides, insertSlide, slideText, toPlain } from '../../shared/presentation.js';
import { loadFromDatabase } from '../helpers/database.js';
import { waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { startPair, type TestPair } from '../helpers/cluster.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { api, createDeck, opener, plain } from './support.js';

const same = (docs: CollabClient[]) => new Set(docs.map((c) => JSON.stringify(plain(c.doc)))).size === 1;
/** The plain document without the typist's marker character. */
const withoutMarks = (value: unknown) => JSON.parse(JSON.stringify(value).replace(/z/g, ''));

describe('restore across two instances', () => {
  let pair: TestPair;
  let restarted: TestServer | undefined;
  const clients: CollabClient[] = [];
  const open = opener(clients);

  beforeAll(async () => {
    pair = await startPair('vercluster', { WEBSOCKET_MAX_CONNECTIONS_PER_USER: '20' });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await pair?.close();
    await restarted?.close();
  });

  it('restores on an instance where nobody has the document open: it loads it, and the editors on the other instance follow', async () => {
    const { a, b } = pair;
    const owner = await createDeck(b, open, 'v-remote', { members: { tom: 'editor' } });
    const tom = open(b, 'tom', 'v-remote');
    await waitSynced(tom);
    const v1 = (await api(b, 'POST', '/presentations/v-remote/versions', 'olga', { label: 'v1' })).body;
    const atV1 = plain(owner.doc);
    const s2 = slideText(findSlide(tom.doc, 's2')!, 'body');
    s2.insert(s2.length, ' (tom)');
    getSlides(owner.doc).delete(0, 1);
    await Promise.all([waitAcked(owner), waitAcked(tom)]);
    expect(a.app.deckhand.collab.hocuspocus.documents.has('presentation:v-remote')).toBe(false);

    const restored = await api(a, 'POST', `/presentations/v-remote/versions/${v1.version_id}/restore`, 'tom');
    expect(restored.status).toBe(200);
    for (const c of [owner, tom]) await waitFor(() => JSON.stringify(plain(c.doc)) === JSON.stringify(atV1), 10_000, 'editors on B follow');
    expect(toPlain(await loadFromDatabase(pair.databaseUrl, 'presentation:v-remote'))).toEqual(atV1);
  });

  it('converges every replica on both instances while an editor on B types, and the database holds the result', async () => {
    const { a, b } = pair;
    const owner = await createDeck(a, open, 'v-pair', { slides: ['s1', 's2', 's3'], members: { tom: 'editor', vic: 'viewer' } });
    const typist = open(b, 'tom', 'v-pair');
    const watcherB = open(b, 'vic', 'v-pair');
    const watcherA = open(a, 'vic', 'v-pair');
    await Promise.all([typist, watcherA, watcherB].map((c) => waitSynced(c)));
    const all = [owner, typist, watcherA, watcherB];

    const v1 = (await api(a, 'POST', '/presentations/v-pair/versions', 'olga', { label: 'v1' })).body;
    const atV1 = plain(owner.doc);
    expect(JSON.stringify(atV1)).not.toContain('z');

    // Much changes after v1, from both instances.
    owner.doc.transact(() => {
      const slides = getSlides(owner.doc);
      slides.delete(1, 1); // s2 gone
      insertSlide(owner.doc, { id: 's4', title: 'new slide' }, 0);
      getMeta(owner.doc).set('title', 'Renamed');
    });
    const s1Title = slideText(findSlide(typist.doc, 's1')!, 'title');
    typist.doc.transact(() => s1Title.insert(0, 'Tom: '));
    await Promise.all([waitAcked(owner), waitAcked(typist)]);
    await waitFor(() => same(all), 10_000, 'converged before the restore');

    // Tom keeps typing into s1 (a slide the version has too) while the restore runs on A.
    let typing = true;
    let typed = 0;
    const typeLoop = (async () => {
      while (typing) {
        const slide = findSlide(typist.doc, 's1');
        if (slide) {
          const field = slideText(slide, typed % 2 ? 'title' : 'body');
          field.insert(Math.floor(Math.random() * (field.length + 1)), 'z');
          typed++;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    const restored = await api(a, 'POST', `/presentations/v-pair/versions/${v1.version_id}/restore`, 'olga');
    expect(restored.status).toBe(200);
    await new Promise((r) => setTimeout(r, 150));
    typing = false;
    await typeLoop;
    expect(typed).toBeGreaterThan(10);
    await waitAcked(typist);
    await waitFor(() => same(all), 10_000, 'every replica converged after the restore');

    // Nothing torn: apart from the keystrokes the restore could not have seen, the document is v1 exactly.
    const converged = plain(owner.doc);
    expect(withoutMarks(converged)).toEqual(atV1);
    expect(converged.slides.map((s: { id: string }) => s.id)).toEqual(['s1', 's2', 's3']);

    // With nobody typing, a restore made on A makes every replica, on B too, equal the version exactly.
    const again = await api(a, 'POST', `/presentations/v-pair/versions/${v1.version_id}/restore`, 'olga');
    expect(again.status).toBe(200);
    await waitFor(() => all.every((c) => JSON.stringify(plain(c.doc)) === JSON.stringify(atV1)), 10_000, 'exactly v1 on both instances');

    // Durable: the database alone holds it, and so does a fresh server after both instances are gone.
    expect(toPlain(await loadFromDatabase(pair.databaseUrl, 'presentation:v-pair'))).toEqual(atV1);
    for (const c of all) c.destroy();
    await pair.close();
    restarted = await startServer({ DATABASE_URL: pair.databaseUrl });
    const reader = open(restarted, 'vic', 'v-pair');
    await waitSynced(reader);
    expect(plain(reader.doc)).toEqual(atV1);
  });
});
