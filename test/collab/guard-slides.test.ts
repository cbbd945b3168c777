/**
 * Issue #11, point 2: locks and the guard follow the slide itself (its Y.Map), not its `id` field. An editor who
 * appends a decoy `{id: "s1"}` and then edits the real, locked s1 changes nothing; a second slide with an existing id
 * is refused (CONFLICT), and a slide's id cannot be changed. Judged by what a fresh instance loads from Postgres.
 */
import { describe, expect, it } from 'vitest';
import { findSlide, getSlides, insertSlide, slideText } from '../../shared/presentation.js';
import { jsonOf, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createDeck } from '../helpers/deck.js';
import { lockAndWait } from '../helpers/lock-table.js';
import { errorsOf, recordLocal, referenceOf, reloaded } from '../helpers/raw-writer.js';
import { useGuardServer } from '../helpers/guard-server.js';

describe('write guard: slides are followed by identity, ids are unique and immutable', () => {
  const fx = useGuardServer('guardslides');
  /** The first slide with this id, in document order (the real one when a decoy is appended after it). */
  const first = (c: CollabClient, slideId: string) =>
    getSlides(c.doc)
      .toArray()
      .find((s) => s.get('id') === slideId)!;

  it('a decoy slide with the locked id does not lift the lock on the real one (separate updates, and one update)', async () => {
    const { owner, ownerLog } = await createDeck(fx.server, 'decoy', ['s1', 's2'], { hana: 'editor', ivan: 'editor' }, fx.clients);
    const hana = fx.open('decoy', 'hana');
    const hanaLog = recordLocal(hana);
    const ivan = fx.open('decoy', 'ivan');
    await Promise.all([waitSynced(hana), waitSynced(ivan)]);
    await lockAndWait(hana, 's1', 'hana', [hana, ivan]);

    insertSlide(ivan.doc, { id: 's1', title: 'decoy' });
    await waitAcked(ivan);
    slideText(first(ivan, 's1'), 'title').insert(0, 'BYPASS-1 ');
    await waitAcked(ivan);
    ivan.doc.transact(() => {
      insertSlide(ivan.doc, { id: 's1', title: 'decoy 2' });
      slideText(first(ivan, 's1'), 'body').insert(0, 'BYPASS-2 ');
    });
    await waitAcked(ivan);
    slideText(first(hana, 's1'), 'title').insert(0, 'holder: ');
    await waitAcked(hana);

    const expected = referenceOf(ownerLog, hanaLog);
    await waitFor(() => jsonOf(owner.doc) === jsonOf(expected), 5000, 'owner sees only honest edits');
    expect(jsonOf(await reloaded(fx.databaseUrl, 'decoy'))).toBe(jsonOf(expected));
    expect(await fx.storedBytes('decoy')).not.toContain('BYPASS');
    expect(errorsOf(ivan.stateless, 'CONFLICT').length).toBeGreaterThanOrEqual(1);
    expect(errorsOf(ivan.stateless, 'LOCKED').length).toBeGreaterThanOrEqual(1);
  });

  it('refuses a second slide with an existing id (CONFLICT) and a change of a slide id, whoever sends it', async () => {
    const { owner, ownerLog } = await createDeck(fx.server, 'ids', ['s1', 's2'], {}, fx.clients);
    const before = jsonOf(referenceOf(ownerLog));
    insertSlide(owner.doc, { id: 's2', title: 'DUPLICATE' });
    await waitFor(() => errorsOf(owner.stateless, 'CONFLICT').length === 1, 5000, 'CONFLICT for a duplicate id');
    await waitAcked(owner);
    findSlide(owner.doc, 's1')!.set('id', 'renamed');
    await waitFor(() => errorsOf(owner.stateless, 'CONFLICT').length === 2, 5000, 'CONFLICT for a renamed slide');
    await waitAcked(owner);

    const loaded = await reloaded(fx.databaseUrl, 'ids');
    expect(jsonOf(loaded)).toBe(before);
    expect(
      getSlides(loaded)
        .toArray()
        .map((s) => s.get('id')),
    ).toEqual(['s1', 's2']);
    expect(await fx.storedBytes('ids')).not.toContain('DUPLICATE');
    // A fresh id is fine.
    const fresh = fx.open('ids', 'olga');
    await waitSynced(fresh);
    insertSlide(fresh.doc, { id: 's3', title: 'new' });
    await waitAcked(fresh);
    expect(
      getSlides(await reloaded(fx.databaseUrl, 'ids'))
        .toArray()
        .map((s) => s.get('id')),
    ).toEqual(['s1', 's2', 's3']);
  });
});
