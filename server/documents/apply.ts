/**
 * Applying checked actions (./plan.ts) to the Yjs document. Call inside one transaction, in the same turn of the
 * event loop as the check, so the document is still the one the actions were checked against.
 *
 * Text indexes of the actions count the field's plain text (Y.Text.toString: strings only); a Y.Text may also hold
 * embeds (one position each in Yjs), which are skipped when converting.
 */
import * as Y from 'yjs';
import type { SlideField } from '../../shared/operations.js';
import { createSlide, getMeta, getSlides, visibleSlides } from '../../shared/presentation.js';
import { operationOrigin, transactWithUpdate, type OperationAuthor } from './origin.js';
import type { PlannedAction } from './plan.js';

/**
 * The Yjs index of a plain-text index of `text`. `plainLength`, the length of its plain text when the caller knows it,
 * saves reading the text: equal lengths mean no embeds, so the indexes are the same.
 */
export function yjsIndex(text: Y.Text, index: number, plainLength?: number): number {
  if (text.length === (plainLength ?? text.toString().length)) return index;
  let plain = 0;
  let yjs = 0;
  for (const part of text.toDelta() as { insert?: unknown }[]) {
    if (typeof part.insert === 'string') {
      if (index <= plain + part.insert.length) return yjs + (index - plain);
      plain += part.insert.length;
      yjs += part.insert.length;
    } else {
      yjs += 1;
    }
  }
  return yjs;
}

const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

function fieldOf(slide: Y.Map<unknown>, field: SlideField): Y.Text {
  const existing = slide.get(field);
  if (existing instanceof Y.Text) return existing;
  // A slide made by some other client without this field: the plain view reads it as ''.
  const text = new Y.Text();
  slide.set(field, text);
  return text;
}

/** Changes `text` (whose plain text is `current`) into `next` by one edit between their common prefix and suffix. */
function replaceText(text: Y.Text, current: string, next: string): void {
  let start = 0;
  while (start < current.length && start < next.length && current[start] === next[start]) start++;
  if (start > 0 && isLowSurrogate(current.charCodeAt(start))) start--; // never split a character
  let end = 0;
  while (end < current.length - start && end < next.length - start && current[current.length - 1 - end] === next[next.length - 1 - end]) end++;
  if (end > 0 && isLowSurrogate(current.charCodeAt(current.length - end))) end--;
  const from = yjsIndex(text, start, current.length);
  const to = yjsIndex(text, current.length - end, current.length);
  if (to > from) text.delete(from, to - from);
  const inserted = next.slice(start, next.length - end);
  if (inserted.length > 0) text.insert(from, inserted);
}

export function applyActions(doc: Y.Doc, actions: readonly PlannedAction[]): void {
  const slides = getSlides(doc);
  const byId = new Map(visibleSlides(doc).map((s) => [s.id, s.slide]));
  const slide = (id: string): Y.Map<unknown> => {
    const found = byId.get(id);
    if (!found) throw new Error(`planned action on a missing slide ${id}`);
    return found;
  };
  for (const action of actions) {
    switch (action.kind) {
      case 'add_slide': {
        const map = createSlide({ id: action.id, order: action.order, ...action.content });
        slides.push([map]);
        byId.set(action.id, map);
        break;
      }
      case 'delete_slide': {
        // Every map with the id: a hidden duplicate must not take the deleted slide's place.
        for (let i = slides.length - 1; i >= 0; i--) if (slides.get(i).get('id') === action.id) slides.delete(i, 1);
        byId.delete(action.id);
        break;
      }
      case 'move_slide':
        slide(action.id).set('order', action.order);
        break;
      case 'insert': {
        const text = fieldOf(slide(action.id), action.field);
        text.insert(yjsIndex(text, action.index, action.before.length), action.text);
        break;
      }
      case 'delete': {
        const text = fieldOf(slide(action.id), action.field);
        const from = yjsIndex(text, action.index, action.before.length);
        text.delete(from, yjsIndex(text, action.index + action.length, action.before.length) - from);
        break;
      }
      case 'replace':
        replaceText(fieldOf(slide(action.id), action.field), action.before, action.text);
        break;
      case 'set_meta':
        if (action.value === null) getMeta(doc).delete(action.key);
        else getMeta(doc).set(action.key, action.value);
        break;
    }
  }
}

/**
 * Applies checked actions as one transaction whose origin names the author and carries the actions (marked complete
 * as its last step); returns the transaction's update (transactWithUpdate: a PartialChangeError when it failed part
 * way).
 */
export function applyAsTransaction(doc: Y.Doc, actions: readonly PlannedAction[], author: OperationAuthor): Uint8Array | null {
  const origin = operationOrigin(author, actions);
  return transactWithUpdate(doc, origin, () => {
    applyActions(doc, actions);
    origin.context.complete = true;
  });
}
