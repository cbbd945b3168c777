/**
 * The operations core on plain Yjs documents, without a server: checking a batch (all or nothing), applying it, and
 * the mirror that turns every transaction (operations and Yjs edits alike) into operations for JSON copies. The
 * randomized case checks the property the JSON socket relies on: a copy that applies every translated operation
 * always equals the document's plain view.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyOperation, type DocumentJson } from '../../shared/document-json.js';
import type { Operation } from '../../shared/operations.js';
import { documentJsonOf, getMeta, getSlides, insertSlide, moveSlide, orderedSlides, slideText } from '../../shared/presentation.js';
import { applyAsTransaction } from '../../server/documents/apply.js';
import { DocumentMirror } from '../../server/documents/mirror.js';
import { planOperations, type WriteRules } from '../../server/documents/plan.js';
import { DomainError } from '../../server/errors.js';
import { prng } from '../helpers/prng.js';

const free: WriteRules = { lockedByOthers: new Map() };
const mirrors = new WeakMap<Y.Doc, DocumentMirror>();

/** As the server applies a batch: checked (with the texts the mirror knows, when one follows), one transaction. */
function apply(doc: Y.Doc, ops: Operation[], rules: WriteRules = free): void {
  const mirror = mirrors.get(doc);
  const actions = planOperations(doc, ops, rules, undefined, mirror ? (id, field) => mirror.textOf(id, field) : undefined);
  applyAsTransaction(doc, actions, { userId: 'tester' });
}

/** A JSON copy kept in step with `doc` through the mirror, as a JSON client's would be. */
function follow(doc: Y.Doc): { copy: DocumentJson; ops: number } {
  const mirror = new DocumentMirror(doc);
  mirrors.set(doc, mirror);
  const state = { copy: mirror.snapshot(), ops: 0 };
  doc.on('afterTransaction', (tr: Y.Transaction) => {
    for (const op of mirror.changes(tr)) {
      applyOperation(state.copy, op);
      state.ops++;
    }
  });
  return state;
}

function refusal(fn: () => void): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('operations on a Yjs document', () => {
  it('applies each kind, and a JSON copy follows', () => {
    const doc = new Y.Doc();
    const json = follow(doc);
    apply(doc, [
      { type: 'add_slide', slide_id: 's1', content: { title: 'One', body: 'first body' } },
      { type: 'add_slide', slide_id: 's2', index: 0, content: { title: 'Two' } },
      { type: 'insert', slide_id: 's1', field: 'title', index: 3, content: { text: '!' } },
      { type: 'delete', slide_id: 's1', field: 'body', index: 0, length: 6 },
      { type: 'replace', slide_id: 's2', field: 'notes', content: { text: 'say hi' } },
      { type: 'set_meta', key: 'title', value: 'Deck' },
      { type: 'move_slide', slide_id: 's2', index: 1 },
    ]);
    const expected = {
      meta: { title: 'Deck' },
      slides: [
        { id: 's1', title: 'One!', body: 'body', notes: '' },
        { id: 's2', title: 'Two', body: '', notes: 'say hi' },
      ],
    };
    expect(documentJsonOf(doc)).toEqual(expected);
    expect(json.copy).toEqual(expected);
    apply(doc, [
      { type: 'delete_slide', slide_id: 's1' },
      { type: 'set_meta', key: 'title', value: null },
    ]);
    expect(documentJsonOf(doc)).toEqual({ meta: {}, slides: [expected.slides[1]] });
    expect(json.copy).toEqual(documentJsonOf(doc));
  });

  it('refuses a batch whole: nothing of it is applied', () => {
    const doc = new Y.Doc();
    apply(doc, [{ type: 'add_slide', slide_id: 's1', content: { title: 'keep' } }]);
    const before = Y.encodeStateVector(doc);
    const bad = refusal(() =>
      apply(doc, [
        { type: 'insert', slide_id: 's1', field: 'title', index: 0, content: { text: 'NO ' } },
        { type: 'add_slide', slide_id: 's2' },
        { type: 'delete', slide_id: 's1', field: 'title', index: 5, length: 10 },
      ]),
    );
    expect(bad.code).toBe('INVALID_MESSAGE');
    expect(bad.details).toMatchObject({ operation_index: 2 });
    expect(Y.encodeStateVector(doc)).toEqual(before);
    for (const ops of [
      [{ type: 'add_slide', slide_id: 's1' }],
      [{ type: 'move_slide', slide_id: 's1', index: 1 }],
      [{ type: 'insert', slide_id: 'nope', field: 'body', index: 0, content: { text: 'x' } }],
      [{ type: 'set_meta', key: '__proto__', value: 1 }],
      [{ type: 'insert', slide_id: 's1', field: 'title', index: 0, content: { text: '\ud83d' } }],
    ] as Operation[][]) {
      expect(refusal(() => apply(doc, ops)).code).toBe('INVALID_MESSAGE');
    }
    // Later operations see the earlier ones: add then write into the new slide, delete then re-add the id.
    apply(doc, [
      { type: 'add_slide', slide_id: 's2' },
      { type: 'insert', slide_id: 's2', field: 'body', index: 0, content: { text: 'new' } },
      { type: 'delete_slide', slide_id: 's1' },
      { type: 'add_slide', slide_id: 's1', index: 0 },
    ]);
    expect(documentJsonOf(doc).slides.map((s) => [s.id, s.body])).toEqual([
      ['s1', ''],
      ['s2', 'new'],
    ]);
  });

  it('refuses LOCKED what touches a slide someone else holds, whatever else the batch does', () => {
    const doc = new Y.Doc();
    apply(doc, [
      { type: 'add_slide', slide_id: 's1' },
      { type: 'add_slide', slide_id: 's2' },
    ]);
    const rules: WriteRules = { lockedByOthers: new Map([['s1', 'Hana']]) };
    for (const op of [
      { type: 'move_slide', slide_id: 's1', index: 1 },
      { type: 'delete_slide', slide_id: 's1' },
      { type: 'replace', slide_id: 's1', field: 'title', content: { text: 'x' } },
    ] as Operation[]) {
      const err = refusal(() => apply(doc, [{ type: 'insert', slide_id: 's2', field: 'title', index: 0, content: { text: 'ok' } }, op], rules));
      expect(err.code).toBe('LOCKED');
      expect(err.message).toContain('Hana');
    }
    expect(documentJsonOf(doc).slides.map((s) => s.title)).toEqual(['', '']);
    apply(
      doc,
      [
        { type: 'add_slide', slide_id: 's3', index: 1 },
        { type: 'move_slide', slide_id: 's2', index: 0 },
      ],
      rules,
    );
    expect(documentJsonOf(doc).slides.map((s) => s.id)).toEqual(['s2', 's1', 's3']);
  });

  it('keeps characters whole: a replace inside a surrogate pair, text with embeds', () => {
    const doc = new Y.Doc();
    const json = follow(doc);
    apply(doc, [{ type: 'add_slide', slide_id: 's1', content: { title: 'a😀b' } }]);
    apply(doc, [{ type: 'replace', slide_id: 's1', field: 'title', content: { text: 'a😁b' } }]);
    expect(refusal(() => apply(doc, [{ type: 'insert', slide_id: 's1', field: 'title', index: 2, content: { text: 'x' } }])).code).toBe(
      'INVALID_MESSAGE',
    );
    const title = slideText(orderedSlides(doc)[0]!.slide, 'title');
    title.insertEmbed(1, { image: 'x.png' });
    apply(doc, [{ type: 'insert', slide_id: 's1', field: 'title', index: 3, content: { text: '-' } }]);
    expect(documentJsonOf(doc).slides[0]!.title).toBe('a😁-b');
    expect(json.copy).toEqual(documentJsonOf(doc));
  });

  it.each([21, 22, 23, 24])('seed %i: Yjs edits from two replicas and operations on the server: the JSON copy always equals the document', (seed) => {
    const r = prng(seed);
    const server = new Y.Doc();
    const editors = [new Y.Doc(), new Y.Doc()];
    const json = follow(server);
    const syncEditor = (editor: Y.Doc) => {
      Y.applyUpdate(server, Y.encodeStateAsUpdate(editor, Y.encodeStateVector(server)));
      Y.applyUpdate(editor, Y.encodeStateAsUpdate(server, Y.encodeStateVector(editor)));
    };
    apply(server, [{ type: 'add_slide', slide_id: 'first', content: { title: 'first' } }]);
    let n = 0;
    for (let step = 0; step < 300; step++) {
      const choice = r.next();
      if (choice < 0.45) {
        const editor = r.pick(editors);
        const slides = orderedSlides(editor);
        const op = r.next();
        if (op < 0.15 || slides.length === 0) insertSlide(editor, { id: `y${seed}-${n++}`, title: `y${step}` }, r.int(slides.length + 1));
        else if (op < 0.25) moveSlide(editor, r.pick(slides).id, r.int(slides.length));
        else if (op < 0.3) getSlides(editor).delete(r.pick(slides).arrayIndex, 1);
        else if (op < 0.35) getMeta(editor).set(r.pick(['title', 'theme']), r.next() < 0.2 ? null : `m${step}`);
        else {
          const text = slideText(r.pick(slides).slide, r.pick(['title', 'body', 'notes'] as const));
          if (text.length > 0 && r.next() < 0.3) text.delete(r.int(text.length), 1 + r.int(3));
          else text.insert(r.int(text.length + 1), `e${step}`);
        }
      } else if (choice < 0.8) {
        const slides = documentJsonOf(server).slides;
        const s = slides.length > 0 ? r.pick(slides) : undefined;
        const field = r.pick(['title', 'body', 'notes'] as const);
        const candidates: Operation[] = [
          { type: 'add_slide', slide_id: `j${seed}-${n++}`, index: r.int(slides.length + 1), content: { body: `j${step}` } },
        ];
        if (s) {
          candidates.push(
            { type: 'move_slide', slide_id: s.id, index: r.int(slides.length) },
            { type: 'insert', slide_id: s.id, field, index: r.int(s[field].length + 1), content: { text: `o${step}` } },
            { type: 'replace', slide_id: s.id, field, content: { text: `r${step}` } },
            { type: 'set_meta', key: 'title', value: `op${step}` },
          );
          if (s[field].length > 0) candidates.push({ type: 'delete', slide_id: s.id, field, index: 0, length: Math.min(2, s[field].length) });
          if (slides.length > 1 && r.next() < 0.3) candidates.push({ type: 'delete_slide', slide_id: s.id });
        }
        apply(server, [r.pick(candidates)]);
      } else {
        syncEditor(r.pick(editors));
      }
      expect(json.copy, `step ${step}`).toEqual(documentJsonOf(server));
    }
    for (const editor of editors) syncEditor(editor);
    for (const editor of editors) syncEditor(editor);
    expect(json.copy).toEqual(documentJsonOf(server));
    for (const editor of editors) expect(documentJsonOf(editor)).toEqual(documentJsonOf(server));
    const ids = documentJsonOf(server).slides.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
