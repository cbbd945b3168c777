/**
 * Checking a batch of operations before anything is applied (design §12: a batch is all or nothing). Each operation
 * is checked against the document as the operations before it in the batch leave it (a view of the slide order and
 * of the texts they touch), and against the writer's lock rule; the result is a list of concrete actions (order keys
 * chosen, ids generated) that cannot fail when applied (./apply.ts) in the same turn of the event loop.
 * Refusals are DomainErrors: INVALID_MESSAGE (does not fit the document), LOCKED (a slide another user holds).
 */
import { randomBytes } from 'node:crypto';
import type * as Y from 'yjs';
import { MAX_META_VALUE_BYTES, MAX_SLIDES, MAX_TEXT_LENGTH, isMetaKey, type Operation, type SlideField } from '../../shared/operations.js';
import { fieldText, getSlides, visibleSlides } from '../../shared/presentation.js';
import { compareOrder, orderKeyAt } from '../../shared/slide-order.js';
import { DomainError } from '../errors.js';

export type PlannedAction =
  | { kind: 'add_slide'; id: string; order: string; content: { title: string; body: string; notes: string } }
  | { kind: 'delete_slide'; id: string }
  | { kind: 'move_slide'; id: string; order: string }
  | TextAction
  | { kind: 'set_meta'; key: string; value: unknown };

/** A change of a slide field's text; `before` is the field's plain text just before it (what the check saw). */
export type TextAction =
  | { kind: 'insert'; id: string; field: SlideField; index: number; text: string; before: string }
  | { kind: 'delete'; id: string; field: SlideField; index: number; length: number; before: string }
  | { kind: 'replace'; id: string; field: SlideField; text: string; before: string };

/** The plain text of a visible slide's field as it is now, when the caller knows it (saves reading the Y.Text). */
export type KnownText = (slideId: string, field: SlideField) => string | undefined;

export interface WriteRules {
  /** Slides the writer may not touch, by id → the name of the user who holds the lock. */
  lockedByOthers: ReadonlyMap<string, string>;
}

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** Whether a text index falls between the two halves of a surrogate pair (one character). */
function splitsCharacter(text: string, index: number): boolean {
  return index > 0 && index < text.length && isHighSurrogate(text.charCodeAt(index - 1)) && isLowSurrogate(text.charCodeAt(index));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a JSON value holds a string with half a surrogate pair (Yjs' encoding would turn it into U+FFFD). */
function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  if (typeof value === 'object' && value !== null) return Object.entries(value).some(([k, v]) => hasLoneSurrogate(k) || hasLoneSurrogate(v));
  return false;
}

export function newSlideId(): string {
  return `slide-${randomBytes(6).toString('hex')}`;
}

/** The document as the batch leaves it so far. */
class BatchView {
  /** The visible slide order: id and order key. */
  readonly order: { id: string; order: string }[];
  /** Every slide id in the document, hidden duplicates included, plus those the batch added. */
  readonly ids: Set<string>;
  private readonly texts = new Map<string, string>();
  private readonly maps: Map<string, Y.Map<unknown>>;

  constructor(
    doc: Y.Doc,
    private readonly known?: KnownText,
  ) {
    const visible = visibleSlides(doc);
    this.order = visible.map((s) => ({ id: s.id, order: s.order }));
    this.maps = new Map(visible.map((s) => [s.id, s.slide]));
    this.ids = new Set();
    getSlides(doc).forEach((slide) => {
      const id = slide.get('id');
      if (typeof id === 'string') this.ids.add(id);
    });
  }

  has(id: string): boolean {
    return this.order.some((s) => s.id === id);
  }

  text(id: string, field: SlideField): string {
    const key = `${id}\u0000${field}`;
    let text = this.texts.get(key);
    if (text === undefined) {
      const slide = this.maps.get(id);
      text = slide ? (this.known?.(id, field) ?? fieldText(slide, field)) : '';
      this.texts.set(key, text);
    }
    return text;
  }

  setText(id: string, field: SlideField, text: string): void {
    this.texts.set(`${id}\u0000${field}`, text);
  }

  place(id: string, order: string): void {
    const at = this.order.findIndex((s) => s.id === id);
    if (at >= 0) this.order.splice(at, 1);
    this.order.push({ id, order });
    this.order.sort(compareOrder);
  }

  others(id: string): { id: string; order: string }[] {
    return this.order.filter((s) => s.id !== id);
  }

  remove(id: string): void {
    const at = this.order.findIndex((s) => s.id === id);
    if (at >= 0) this.order.splice(at, 1);
    this.maps.delete(id);
    for (const field of ['title', 'body', 'notes'] as const) this.texts.delete(`${id}\u0000${field}`);
  }
}

/**
 * Checks `operations` against `doc` and the writer's rules, in order, and returns what to apply. Throws a
 * DomainError for the first operation that does not fit (nothing has been changed).
 */
export function planOperations(
  doc: Y.Doc,
  operations: readonly Operation[],
  rules: WriteRules,
  generateId: () => string = newSlideId,
  known?: KnownText,
): PlannedAction[] {
  const view = new BatchView(doc, known);
  const actions: PlannedAction[] = [];
  operations.forEach((op, index) => {
    const refuse = (reason: string): never => {
      throw new DomainError('INVALID_MESSAGE', `operation ${index} (${op.type}): ${reason}`, {
        operation_index: index,
        operation_id: op.operation_id ?? null,
      });
    };
    const requireSlide = (slideId: string) => {
      if (!view.has(slideId)) refuse(`no slide ${slideId}`);
      const holder = rules.lockedByOthers.get(slideId);
      if (holder !== undefined) {
        throw new DomainError('LOCKED', `slide ${slideId} is locked by ${holder}`, {
          operation_index: index,
          operation_id: op.operation_id ?? null,
          slide_id: slideId,
          holder: { name: holder },
        });
      }
    };
    if (hasLoneSurrogate(op)) refuse('a string holds half a surrogate pair (not valid Unicode text)');
    const checkText = (slideId: string, field: SlideField, text: string) => {
      if (text.length > MAX_TEXT_LENGTH) refuse(`${field} of slide ${slideId} would be longer than ${MAX_TEXT_LENGTH}`);
    };
    switch (op.type) {
      case 'add_slide': {
        const id = op.slide_id ?? generateId();
        if (view.ids.has(id)) refuse(`slide ${id} exists`);
        if (view.order.length >= MAX_SLIDES) refuse(`a document has at most ${MAX_SLIDES} slides`);
        const position = op.index ?? view.order.length;
        if (position > view.order.length) refuse(`index ${position} is past the end (${view.order.length} slides)`);
        const content = { title: op.content?.title ?? '', body: op.content?.body ?? '', notes: op.content?.notes ?? '' };
        const order = orderKeyAt(view.order, position);
        view.ids.add(id);
        view.place(id, order);
        for (const field of ['title', 'body', 'notes'] as const) view.setText(id, field, content[field]);
        actions.push({ kind: 'add_slide', id, order, content });
        return;
      }
      case 'delete_slide': {
        requireSlide(op.slide_id);
        view.remove(op.slide_id);
        view.ids.delete(op.slide_id);
        actions.push({ kind: 'delete_slide', id: op.slide_id });
        return;
      }
      case 'move_slide': {
        requireSlide(op.slide_id);
        const others = view.others(op.slide_id);
        if (op.index > others.length) refuse(`index ${op.index} is past the end (${others.length + 1} slides)`);
        const order = orderKeyAt(others, op.index);
        view.place(op.slide_id, order);
        actions.push({ kind: 'move_slide', id: op.slide_id, order });
        return;
      }
      case 'insert': {
        requireSlide(op.slide_id);
        const text = view.text(op.slide_id, op.field);
        if (op.index > text.length) refuse(`index ${op.index} is past the end of ${op.field} (${text.length})`);
        if (splitsCharacter(text, op.index)) refuse(`index ${op.index} splits a character`);
        const next = text.slice(0, op.index) + op.content.text + text.slice(op.index);
        checkText(op.slide_id, op.field, next);
        view.setText(op.slide_id, op.field, next);
        actions.push({ kind: 'insert', id: op.slide_id, field: op.field, index: op.index, text: op.content.text, before: text });
        return;
      }
      case 'delete': {
        requireSlide(op.slide_id);
        const text = view.text(op.slide_id, op.field);
        const end = op.index + op.length;
        if (end > text.length) refuse(`range ${op.index}..${end} is past the end of ${op.field} (${text.length})`);
        if (splitsCharacter(text, op.index) || splitsCharacter(text, end)) refuse(`range ${op.index}..${end} splits a character`);
        view.setText(op.slide_id, op.field, text.slice(0, op.index) + text.slice(end));
        actions.push({ kind: 'delete', id: op.slide_id, field: op.field, index: op.index, length: op.length, before: text });
        return;
      }
      case 'replace': {
        requireSlide(op.slide_id);
        const before = view.text(op.slide_id, op.field);
        view.setText(op.slide_id, op.field, op.content.text);
        actions.push({ kind: 'replace', id: op.slide_id, field: op.field, text: op.content.text, before });
        return;
      }
      case 'set_meta': {
        if (!isMetaKey(op.key)) refuse(`meta key ${JSON.stringify(op.key)} is not allowed`);
        const size = Buffer.byteLength(JSON.stringify(op.value ?? null));
        if (size > MAX_META_VALUE_BYTES) refuse(`meta value of ${size} bytes is over the ${MAX_META_VALUE_BYTES}-byte limit`);
        actions.push({ kind: 'set_meta', key: op.key, value: op.value ?? null });
        return;
      }
    }
  });
  return actions;
}
