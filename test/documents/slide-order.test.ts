/**
 * Slide order keys (shared/slide-order.ts) on plain Yjs documents: derived keys for old documents, order steps for
 * JSON copies, and the property that matters, checked on random histories: concurrent moves (and adds, deletes)
 * from several replicas never duplicate or lose a slide, and every replica ends with the same order.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createSlide, getSlides, insertSlide, moveSlide, orderedSlides, slidePosition, toPlain } from '../../shared/presentation.js';
import { effectiveOrderKeys, isOrderKey, orderKeyAt, orderSteps } from '../../shared/slide-order.js';
import { prng } from '../helpers/prng.js';

const ids = (doc: Y.Doc) => orderedSlides(doc).map((s) => s.id);

function sync(docs: Y.Doc[]): void {
  for (const a of docs) for (const b of docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
}

describe('slide order keys', () => {
  it('accepts fractional index keys only', () => {
    expect(isOrderKey('a0')).toBe(true);
    expect(isOrderKey('a0V')).toBe(true);
    for (const bad of ['', 'a', 'a00', 'a0 ', 42, null, 'x'.repeat(300)]) expect(isOrderKey(bad)).toBe(false);
  });

  it('derives the same keys from the array alone, and keeps keyed slides where their keys put them', () => {
    const legacy = effectiveOrderKeys([undefined, undefined, undefined]);
    expect(legacy.derived).toEqual([true, true, true]);
    expect(legacy.keys).toEqual(effectiveOrderKeys([undefined, 'junk', 7]).keys);
    expect([...legacy.keys].sort()).toEqual(legacy.keys);
    // A keyless slide after "a1" in the array goes right after it, before the next key in the order ("a2").
    const mixed = effectiveOrderKeys(['a2', 'a1', undefined, 'a0']);
    expect(mixed.derived).toEqual([false, false, true, false]);
    expect(mixed.keys[2]! > 'a1' && mixed.keys[2]! < 'a2').toBe(true);
  });

  it('puts a key between its neighbours, and after neighbours that share a key', () => {
    const ordered = [{ order: 'a0' }, { order: 'a1' }, { order: 'a1' }, { order: 'a2' }];
    const first = orderKeyAt(ordered, 1);
    expect(first > 'a0' && first < 'a1').toBe(true);
    const tied = orderKeyAt(ordered, 2);
    expect(tied > 'a1' && tied < 'a2').toBe(true);
    expect(orderKeyAt(ordered, 0) < 'a0').toBe(true);
    expect(orderKeyAt(ordered, 4) > 'a2').toBe(true);
  });

  it('turns one order into another with the fewest moves (seeded random lists)', () => {
    const r = prng(7);
    for (let round = 0; round < 300; round++) {
      const from = Array.from({ length: r.int(8) }, (_, i) => `s${i}`);
      const to = from.filter(() => r.next() < 0.8);
      for (let i = 0; i < r.int(3); i++) to.splice(r.int(to.length + 1), 0, `n${round}-${i}`);
      for (let i = to.length - 1; i > 0 && r.next() < 0.5; i--) {
        const j = r.int(i + 1);
        [to[i], to[j]] = [to[j]!, to[i]!];
      }
      const list = [...from];
      for (const step of orderSteps(from, to)) {
        if (step.kind !== 'add') list.splice(list.indexOf(step.id), 1);
        if (step.kind !== 'delete') list.splice(step.index, 0, step.id);
      }
      expect(list).toEqual(to);
    }
    // One slide dragged from the front to the end is one step.
    expect(orderSteps(['a', 'b', 'c', 'd'], ['b', 'c', 'd', 'a'])).toEqual([{ kind: 'move', id: 'a', index: 3 }]);
  });

  it('moves by setting the key only: the array is left as it is', () => {
    const doc = new Y.Doc();
    for (const id of ['s1', 's2', 's3']) insertSlide(doc, { id });
    insertSlide(doc, { id: 's0' }, 0);
    expect(ids(doc)).toEqual(['s0', 's1', 's2', 's3']);
    expect(
      getSlides(doc)
        .toArray()
        .map((s) => s.get('id')),
    ).toEqual(['s1', 's2', 's3', 's0']);
    expect(moveSlide(doc, 's0', 3)).toBe(true);
    expect(ids(doc)).toEqual(['s1', 's2', 's3', 's0']);
    expect(slidePosition(doc, 's3')).toBe(2);
    expect(toPlain(doc).slides.map((s) => (s as { id: string }).id)).toEqual(ids(doc));
  });

  it('orders a legacy document (no keys, copy-and-delete moves of an old client) by its array', () => {
    const doc = new Y.Doc();
    getSlides(doc).push(['a', 'b', 'c'].map((id) => createSlide({ id })));
    expect(ids(doc)).toEqual(['a', 'b', 'c']);
    expect(orderedSlides(doc).every((s) => s.derived)).toBe(true);
  });

  it.each([11, 12, 13, 14, 15])('seed %i: concurrent moves, adds and deletes on 3 replicas never duplicate or lose a slide', (seed) => {
    const r = prng(seed);
    const docs = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
    for (let i = 0; i < 6; i++) insertSlide(docs[0]!, { id: `s${i}` });
    sync(docs);
    const deleted = new Set<string>();
    const added = new Set<string>();
    for (let round = 0; round < 40; round++) {
      for (const [d, doc] of docs.entries()) {
        for (let k = 0; k < 1 + r.int(3); k++) {
          const current = ids(doc);
          const op = r.next();
          if (op < 0.7 && current.length > 0) moveSlide(doc, r.pick(current), r.int(current.length));
          else if (op < 0.85) {
            const id = `n${seed}-${round}-${d}-${k}`;
            insertSlide(doc, { id }, r.int(current.length + 1));
            added.add(id);
          } else if (current.length > 2) {
            const id = r.pick(current);
            const at = getSlides(doc)
              .toArray()
              .findIndex((s) => s.get('id') === id);
            getSlides(doc).delete(at, 1);
            deleted.add(id);
          }
        }
      }
      if (r.next() < 0.5) sync(docs);
    }
    sync(docs);
    const final = ids(docs[0]!);
    for (const doc of docs) expect(ids(doc)).toEqual(final);
    expect(new Set(final).size).toBe(final.length);
    const expected = [...Array.from({ length: 6 }, (_, i) => `s${i}`), ...added].filter((id) => !deleted.has(id));
    expect([...final].sort()).toEqual(expected.sort());
  });
});
