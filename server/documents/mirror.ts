/**
 * Every change of a live document as operations a JSON copy applies (design §12: JSON clients receive
 * `edit_operation` for every change, those typed in Yjs editors included).
 *
 * The mirror keeps the plain JSON view of the document as JSON clients last saw it (slide order, the three text
 * fields of each visible slide, meta). After each transaction it looks at what the transaction changed (Yjs'
 * `transaction.changed`: the slide list, a slide's keys, a slide's text, meta), recomputes only those parts, and
 * turns the difference into operations: slide deletions, additions (with their whole content) and moves by the
 * fewest steps (shared/slide-order.ts orderSteps), then each changed text as one `delete` and one `insert` around
 * the common prefix and suffix (indexes in plain-text code units, never inside a character), then meta keys.
 * Applied in order to a copy equal to the previous view, they give the current view (documentJsonOf).
 */
import * as Y from 'yjs';
import type { DocumentJson } from '../../shared/document-json.js';
import { SLIDE_FIELDS, isMetaKey, type AppliedOperation, type SlideField } from '../../shared/operations.js';
import { fieldText, getMeta, getSlides, metaValueJson, visibleSlides } from '../../shared/presentation.js';
import { orderSteps } from '../../shared/slide-order.js';

interface MirrorSlide {
  id: string;
  map: Y.Map<unknown>;
  text: Record<SlideField, string>;
}

const isField = (key: unknown): key is SlideField => (SLIDE_FIELDS as readonly unknown[]).includes(key);
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** The edits (a delete, then an insert) that turn `before` into `after`, never splitting a character. */
export function textEdits(slideId: string, field: SlideField, before: string, after: string): AppliedOperation[] {
  if (before === after) return [];
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  if (start > 0 && (isLowSurrogate(before.charCodeAt(start)) || isLowSurrogate(after.charCodeAt(start)))) start--;
  let end = 0;
  while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  if (end > 0 && (isLowSurrogate(before.charCodeAt(before.length - end)) || isLowSurrogate(after.charCodeAt(after.length - end)))) end--;
  const edits: AppliedOperation[] = [];
  const removed = before.length - end - start;
  if (removed > 0) edits.push({ type: 'delete', slide_id: slideId, field, index: start, length: removed });
  const inserted = after.slice(start, after.length - end);
  if (inserted.length > 0) edits.push({ type: 'insert', slide_id: slideId, field, index: start, content: { text: inserted } });
  return edits;
}

export class DocumentMirror {
  private slides: MirrorSlide[] = [];
  private readonly meta = new Map<string, string>();
  private readonly slidesType: Y.AbstractType<any>;
  private readonly metaType: Y.Map<unknown>;

  constructor(private readonly doc: Y.Doc) {
    this.slidesType = getSlides(doc);
    this.metaType = getMeta(doc);
    this.slides = visibleSlides(doc).map((s) => this.entry(s.id, s.slide));
    this.metaType.forEach((value, key) => this.rememberMeta(key, value));
  }

  /** The view JSON clients have now (what `connected` carries). */
  snapshot(): DocumentJson {
    const meta: Record<string, unknown> = {};
    for (const [key, json] of this.meta) meta[key] = JSON.parse(json) as unknown;
    return { meta, slides: this.slides.map((s) => ({ id: s.id, ...s.text })) };
  }

  /** The operations for one transaction of the document (empty when nothing JSON clients see changed). */
  changes(transaction: Y.Transaction): AppliedOperation[] {
    let listChanged = false;
    const changedFields = new Map<Y.Map<unknown>, Set<SlideField>>();
    const changedMeta = new Set<string>();
    const touch = (slide: Y.Map<unknown>, field: SlideField) => {
      let fields = changedFields.get(slide);
      if (!fields) changedFields.set(slide, (fields = new Set()));
      fields.add(field);
    };
    for (const [type, keys] of transaction.changed) {
      if (type === this.slidesType) {
        listChanged = true;
      } else if (type === (this.metaType as Y.AbstractType<any>)) {
        for (const key of keys) if (key !== null) changedMeta.add(key);
      } else if (type instanceof Y.Map && type._item?.parent === this.slidesType) {
        for (const key of keys) {
          if (key === 'order' || key === 'id') listChanged = true;
          else if (isField(key)) touch(type, key);
        }
      } else if (type instanceof Y.Text && type._item?.parent instanceof Y.Map && (type._item.parent as Y.Map<unknown>)._item?.parent === this.slidesType) {
        const key = type._item.parentSub;
        if (isField(key)) touch(type._item.parent as Y.Map<unknown>, key);
      } else {
        const metaKey = this.metaKeyOf(type as Y.AbstractType<any>);
        if (metaKey !== null) changedMeta.add(metaKey);
      }
    }
    const ops: AppliedOperation[] = [];
    if (listChanged) this.diffList(ops);
    for (const entry of this.slides) {
      const fields = changedFields.get(entry.map);
      if (fields) for (const field of fields) this.diffField(entry, field, ops);
    }
    for (const key of changedMeta) this.diffMeta(key, ops);
    return ops;
  }

  private entry(id: string, map: Y.Map<unknown>): MirrorSlide {
    return { id, map, text: { title: fieldText(map, 'title'), body: fieldText(map, 'body'), notes: fieldText(map, 'notes') } };
  }

  private diffList(ops: AppliedOperation[]): void {
    const before = new Map(this.slides.map((s) => [s.id, s]));
    const now = visibleSlides(this.doc);
    const next: MirrorSlide[] = [];
    const replaced: MirrorSlide[] = [];
    for (const s of now) {
      const previous = before.get(s.id);
      if (previous && previous.map === s.slide) next.push(previous);
      else if (previous) {
        // Another map now carries this id (the first one was deleted): same slide for JSON clients, new texts.
        const entry = { ...previous, map: s.slide };
        next.push(entry);
        replaced.push(entry);
      } else next.push(this.entry(s.id, s.slide));
    }
    const byId = new Map(next.map((s) => [s.id, s]));
    for (const step of orderSteps(this.slides.map((s) => s.id), next.map((s) => s.id))) {
      if (step.kind === 'delete') ops.push({ type: 'delete_slide', slide_id: step.id });
      else if (step.kind === 'move') ops.push({ type: 'move_slide', slide_id: step.id, index: step.index });
      else ops.push({ type: 'add_slide', slide_id: step.id, index: step.index, content: { ...(byId.get(step.id) as MirrorSlide).text } });
    }
    this.slides = next;
    for (const entry of replaced) for (const field of SLIDE_FIELDS) this.diffField(entry, field, ops);
  }

  private diffField(entry: MirrorSlide, field: SlideField, ops: AppliedOperation[]): void {
    const now = fieldText(entry.map, field);
    ops.push(...textEdits(entry.id, field, entry.text[field], now));
    entry.text[field] = now;
  }

  private diffMeta(key: string, ops: AppliedOperation[]): void {
    if (!isMetaKey(key)) return;
    const previous = this.meta.get(key);
    const now = this.rememberMeta(key, this.metaType.get(key));
    if (previous !== now) ops.push({ type: 'set_meta', key, value: now === undefined ? null : (JSON.parse(now) as unknown) });
  }

  /** Records a meta value's JSON; returns it (undefined when the key is absent from the view). */
  private rememberMeta(key: string, value: unknown): string | undefined {
    if (!isMetaKey(key)) return undefined;
    const json = metaValueJson(value);
    if (json === undefined) {
      this.meta.delete(key);
      return undefined;
    }
    const serialized = JSON.stringify(json);
    this.meta.set(key, serialized);
    return serialized;
  }

  /** The meta key a nested type belongs to (a Yjs value inside meta changed), or null. */
  private metaKeyOf(type: Y.AbstractType<any>): string | null {
    let current: Y.AbstractType<any> = type;
    while (current._item) {
      const parent = current._item.parent as Y.AbstractType<any>;
      if (parent === (this.metaType as Y.AbstractType<any>)) return current._item.parentSub;
      current = parent;
    }
    return null;
  }
}
