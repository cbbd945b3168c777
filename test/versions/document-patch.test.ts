/**
 * The restore diff as a property: from any live document and any version (both grown from a common history by
 * random edits: slides added, moved, deleted, typed into, rich text, formatting, comments, meta), applying the patch
 * makes the live document's content equal the version's, on the live replica and on a replica that only receives
 * the patch's update; planning changes nothing and predicts the same changes.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { addComment, createRichSlide, createSlide, getComments, getMeta, getSlides, slideText, toPlain } from '../../shared/presentation.js';
import { applyPatch, planPatch, textEdit } from '../../server/versions/document-patch.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const WORDS = ['alpha', 'beta', ' ', '\n', 'γάμμα', '😀', 'x', 'delta ', 'é'];

function randomEdit(doc: Y.Doc, r: () => number, n: number): void {
  const pick = <T>(items: T[]) => items[Math.floor(r() * items.length)]!;
  const slides = getSlides(doc);
  const word = () => pick(WORDS);
  doc.transact(() => {
    switch (Math.floor(r() * 10)) {
      case 0:
        slides.insert(Math.floor(r() * (slides.length + 1)), [
          (r() < 0.5 ? createSlide : createRichSlide)({ id: `s${n}-${Math.floor(r() * 1e6)}`, title: word(), body: word() + word() }),
        ]);
        break;
      case 1:
        if (slides.length > 0) slides.delete(Math.floor(r() * slides.length), 1);
        break;
      case 2: {
        // A move as clients do it: delete and insert a copy.
        if (slides.length < 2) break;
        const from = Math.floor(r() * slides.length);
        const copy = slides.get(from).clone();
        slides.delete(from, 1);
        slides.insert(Math.floor(r() * (slides.length + 1)), [copy]);
        break;
      }
      case 3:
      case 4: {
        if (slides.length === 0) break;
        const text = slideText(slides.get(Math.floor(r() * slides.length)), pick(['title', 'body', 'notes'] as const));
        if (r() < 0.6 || text.length === 0) text.insert(Math.floor(r() * (text.length + 1)), word());
        else {
          const at = Math.floor(r() * text.length);
          text.delete(at, Math.min(text.length - at, 1 + Math.floor(r() * 3)));
        }
        break;
      }
      case 5: {
        const rich = slides.toArray().filter((s) => s.get('content') instanceof Y.XmlFragment);
        if (rich.length === 0) break;
        const content = pick(rich).get('content') as Y.XmlFragment;
        if (r() < 0.4 || content.length === 0) {
          const paragraph = new Y.XmlElement(r() < 0.8 ? 'paragraph' : 'heading');
          paragraph.insert(0, [new Y.XmlText(word())]);
          if (r() < 0.3) paragraph.setAttribute('level', String(1 + Math.floor(r() * 3)));
          content.insert(Math.floor(r() * (content.length + 1)), [paragraph]);
        } else {
          const paragraph = content.get(Math.floor(r() * content.length)) as Y.XmlElement;
          const text = paragraph.get(0);
          if (text instanceof Y.XmlText) {
            if (r() < 0.5) text.insert(Math.floor(r() * (text.length + 1)), word(), r() < 0.3 ? { bold: true } : undefined);
            else if (text.length > 0) text.format(0, Math.ceil(text.length / 2), { italic: r() < 0.5 ? true : null });
          } else if (r() < 0.5) content.delete(content.toArray().indexOf(paragraph), 1);
        }
        break;
      }
      case 6:
        getMeta(doc).set(pick(['title', 'theme', 'lang']), r() < 0.8 ? word() : { nested: [word(), Math.floor(r() * 9)] });
        break;
      case 7:
        if (r() < 0.3) getMeta(doc).delete(pick(['title', 'theme', 'lang']));
        else if (slides.length > 0) (slides.get(Math.floor(r() * slides.length)).get('elements') as Y.Map<unknown>).set(word(), Math.floor(r() * 5));
        break;
      case 8:
        if (slides.length > 0) {
          const slideId = slides.get(Math.floor(r() * slides.length)).get('id') as string;
          addComment(doc, slideId, { id: `c${n}`, author: 'u', text: word(), createdAt: '2024-01-01T00:00:00.000Z' });
        }
        break;
      case 9: {
        const threads = [...getComments(doc).values()];
        if (threads.length === 0) break;
        const thread = pick(threads);
        if (thread.length > 0 && r() < 0.5) thread.delete(Math.floor(r() * thread.length), 1);
        else if (thread.length > 0) thread.get(0).set('resolved', r() < 0.5);
        break;
      }
    }
  });
}

function grow(seed: number): { live: Y.Doc; version: Y.Doc } {
  const r = rng(seed);
  const base = new Y.Doc();
  for (let i = 0; i < 15; i++) randomEdit(base, r, i);
  const version = new Y.Doc();
  Y.applyUpdate(version, Y.encodeStateAsUpdate(base));
  const live = new Y.Doc();
  Y.applyUpdate(live, Y.encodeStateAsUpdate(base));
  for (let i = 0; i < 20; i++) randomEdit(version, r, 100 + i);
  for (let i = 0; i < 20; i++) randomEdit(live, r, 200 + i);
  // The version travels as a stored snapshot.
  const stored = new Y.Doc();
  Y.applyUpdate(stored, Y.encodeStateAsUpdate(version));
  return { live, version: stored };
}

describe('restore diff', () => {
  it('makes any live document equal any version, on every replica, with one update', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { live, version } = grow(seed);
      const replica = new Y.Doc();
      Y.applyUpdate(replica, Y.encodeStateAsUpdate(live));
      const before = Y.encodeStateAsUpdate(live);
      const plan = planPatch(live, version);
      expect(Buffer.from(Y.encodeStateAsUpdate(live)).equals(Buffer.from(before)), `seed ${seed}: planning changed nothing`).toBe(true);
      const updates: Uint8Array[] = [];
      live.on('update', (u: Uint8Array) => updates.push(u));
      let applied: ReturnType<typeof applyPatch> | undefined;
      live.transact(() => (applied = applyPatch(live, version)));
      expect(applied!.changes, `seed ${seed}`).toBe(plan.changes);
      expect([...applied!.touchedSlides].sort(), `seed ${seed}`).toEqual([...plan.touchedSlides].sort());
      expect(updates.length).toBe(plan.changes > 0 ? 1 : 0);
      expect(toPlain(live), `seed ${seed}`).toEqual(toPlain(version));
      for (const u of updates) Y.applyUpdate(replica, u);
      expect(toPlain(replica), `seed ${seed}: replica`).toEqual(toPlain(version));
      // Formatting is restored too (toPlain shows XML with its marks; deltas compared directly).
      const deltas = (d: Y.Doc) =>
        getSlides(d)
          .toArray()
          .map((s) => (s.get('content') instanceof Y.XmlFragment ? (s.get('content') as Y.XmlFragment).toString() : null));
      expect(deltas(replica)).toEqual(deltas(version));
      // Once equal, there is nothing left to do.
      expect(planPatch(live, version).changes).toBe(0);
    }
  });

  it('keeps a slide whose place must not change, moving the others around it', () => {
    const live = new Y.Doc();
    getSlides(live).insert(
      0,
      ['a', 'b', 'c'].map((id) => createSlide({ id, title: id })),
    );
    const version = new Y.Doc();
    getSlides(version).insert(
      0,
      ['c', 'a', 'b'].map((id) => createSlide({ id, title: id })),
    );
    // Unconstrained, the cheapest change moves c (keeps a, b).
    expect([...planPatch(live, version).touchedSlides]).toEqual(['c']);
    // With c kept in place, a and b move instead.
    expect([...planPatch(live, version, { keepInPlace: new Set(['c']) }).touchedSlides].sort()).toEqual(['a', 'b']);
  });

  it('edits text with one change that keeps the common prefix and suffix, never splitting a surrogate pair', () => {
    expect(textEdit('hello world', 'hello brave world')).toEqual({ start: 6, deleteCount: 0, insert: 'brave ' });
    expect(textEdit('a😀b', 'a😃b')).toEqual({ start: 1, deleteCount: 2, insert: '😃' });
    expect(textEdit('same', 'same')).toEqual({ start: 4, deleteCount: 0, insert: '' });
    expect(textEdit('aaa', 'aa')).toEqual({ start: 2, deleteCount: 1, insert: '' });
  });
});
