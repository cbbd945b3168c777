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
 *
 * A transaction made by an operation carries its checked actions (./origin.ts), which say exactly how each text
 * changed: those texts are not read back from Yjs (reading a long Y.Text is the costliest step of an operation).
 */
import * as Y from 'yjs';
import type { DocumentJson } from '../../shared/document-json.js';
import { SLIDE_FIELDS, isMetaKey, type AppliedOperation, type SlideField } from '../../shared/operations.js';
import { fieldText, getMeta, getSlides, metaValueJson, visibleSlides } from '../../shared/presentation.js';
import { orderSteps } from '../../shared/slide-order.js';
import { actionsOf } from './origin.js';
import type { SharedType } from './shared-type.js';
import type { PlannedAction } from './plan.js';

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
  private readonly slidesType: SharedType;
  private readonly metaType: Y.Map<unknown>;

  constructor(private readonly doc: Y.Doc) {
    this.slidesType = getSlides(doc);
    this.metaType = getMeta(doc);
    this.slides = visibleSlides(doc).map((s) => this.entry(s.id, s.slide));
    this.metaType.forEach((value, key) => this.rememberMeta(key, value));
  }

  /** A visible slide's field as JSON clients have it now (undefined for a slide they do not see). */
  textOf(slideId: string, field: SlideField): string | undefined {
    return this.slides.find((s) => s.id === slideId)?.text[field];
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
      const fields = changedFields.get(slide) ?? new Set<SlideField>();
      changedFields.set(slide, fields);
      fields.add(field);
    };
    for (const [type, keys] of transaction.changed) {
      if (type === this.slidesType) {
        listChanged = true;
      } else if (type === (this.metaType as SharedType)) {
        for (const key of keys) if (key !== null) changedMeta.add(key);
      } else if (type instanceof Y.Map && type._item?.parent === this.slidesType) {
        for (const key of keys) {
          if (key === 'order' || key === 'id') listChanged = true;
          else if (isField(key)) touch(type, key);
        }
      } else if (
        type instanceof Y.Text &&
        type._item?.parent instanceof Y.Map &&
        (type._item.parent as Y.Map<unknown>)._item?.parent === this.slidesType
      ) {
        const key = type._item.parentSub;
        if (isField(key)) touch(type._item.parent as Y.Map<unknown>, key);
      } else {
        const metaKey = this.metaKeyOf(type as SharedType);
        if (metaKey !== null) changedMeta.add(metaKey);
      }
    }
    const ops: AppliedOperation[] = [];
    const added = listChanged ? this.diffList(ops) : new Set<string>();
    const planned = actionsOf(transaction.origin);
    if (planned) {
      this.replayTexts(planned, added, ops);
    } else {
      for (const entry of this.slides) {
        const fields = changedFields.get(entry.map);
        if (fields) for (const field of fields) this.diffField(entry, field, ops);
      }
    }
    for (const key of changedMeta) this.diffMeta(key, ops);
    return ops;
  }

  /** The text edits of an operation transaction, from its actions (slides it added were sent whole already). */
  private replayTexts(planned: readonly PlannedAction[], added: ReadonlySet<string>, ops: AppliedOperation[]): void {
    const byId = new Map(this.slides.map((s) => [s.id, s]));
    for (const action of planned) {
      if (action.kind !== 'insert' && action.kind !== 'delete' && action.kind !== 'replace') continue;
      const entry = byId.get(action.id);
      if (!entry || added.has(action.id)) continue;
      const { field, before } = action;
      if (entry.text[field] !== before) {
        // Not what the check saw (cannot happen in one turn of the event loop): read the text instead.
        this.diffField(entry, field, ops);
        continue;
      }
      if (action.kind === 'insert') {
        ops.push({ type: 'insert', slide_id: action.id, field, index: action.index, content: { text: action.text } });
        entry.text[field] = before.slice(0, action.index) + action.text + before.slice(action.index);
      } else if (action.kind === 'delete') {
        ops.push({ type: 'delete', slide_id: action.id, field, index: action.index, length: action.length });
        entry.text[field] = before.slice(0, action.index) + before.slice(action.index + action.length);
      } else {
        ops.push(...textEdits(action.id, field, before, action.text));
        entry.text[field] = action.text;
      }
    }
  }

  private entry(id: string, map: Y.Map<unknown>): MirrorSlide {
    return { id, map, text: { title: fieldText(map, 'title'), body: fieldText(map, 'body'), notes: fieldText(map, 'notes') } };
  }

  /** The slide list's steps; returns the ids of the slides added (their whole content is in the step). */
  private diffList(ops: AppliedOperation[]): Set<string> {
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
    for (const step of orderSteps(
      this.slides.map((s) => s.id),
      next.map((s) => s.id),
    )) {
      if (step.kind === 'delete') ops.push({ type: 'delete_slide', slide_id: step.id });
      else if (step.kind === 'move') ops.push({ type: 'move_slide', slide_id: step.id, index: step.index });
      else ops.push({ type: 'add_slide', slide_id: step.id, index: step.index, content: { ...(byId.get(step.id) as MirrorSlide).text } });
    }
    this.slides = next;
    for (const entry of replaced) for (const field of SLIDE_FIELDS) this.diffField(entry, field, ops);
    return new Set(ops.flatMap((op) => (op.type === 'add_slide' ? [op.slide_id] : [])));
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
  private metaKeyOf(type: SharedType): string | null {
    let current: SharedType = type;
    while (current._item) {
      const parent = current._item.parent as SharedType;
      if (parent === (this.metaType as SharedType)) return current._item.parentSub;
      current = parent;
    }
    return null;
  }
}
