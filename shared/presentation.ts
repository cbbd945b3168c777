/**
 * The presentation document schema (one Yjs document per presentation, named `presentation:{id}`) and helpers to read
 * and write it with Yjs.
 *
 *   Y.Doc
 *    ├─ meta: Y.Map            title, theme …
 *    ├─ slides: Y.Array<Y.Map> id (string), order (string, fractional index), title (Y.Text), body (Y.Text),
 *    │                         notes (Y.Text), elements (Y.Map), content (Y.XmlFragment, rich body; optional, see
 *    │                         "Rich text" below)
 *    └─ comments: Y.Map<Y.Array> slide id → thread of comment maps {id, author, text, createdAt, resolved}
 */
import * as Y from 'yjs';
import type { DocumentJson, SlideJson } from './document-json.js';
import { isMetaKey, type SlideField } from './operations.js';
import { compareOrder, effectiveOrderKeys, orderKeyAt } from './slide-order.js';

export const DOCUMENT_PREFIX = 'presentation:';
/** Presentation ids: URL-safe, 1 to 128 characters. */
export const PRESENTATION_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$';
const presentationIdRe = new RegExp(PRESENTATION_ID_PATTERN);

export function isPresentationId(id: string): boolean {
  return presentationIdRe.test(id);
}

export function documentName(presentationId: string): string {
  return `${DOCUMENT_PREFIX}${presentationId}`;
}

/** The presentation id of a document name, or null when the name is not a valid presentation document. */
export function presentationIdOf(name: string): string | null {
  if (!name.startsWith(DOCUMENT_PREFIX)) return null;
  const id = name.slice(DOCUMENT_PREFIX.length);
  return isPresentationId(id) ? id : null;
}

export interface SlideInit {
  id: string;
  /** The slide's order key (shared/slide-order.ts); insertSlide computes it from the position. */
  order?: string;
  title?: string;
  body?: string;
  notes?: string;
}

export interface CommentInit {
  id: string;
  author: string;
  text: string;
  createdAt?: string;
  resolved?: boolean;
}

export function getMeta(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap('meta');
}

/**
 * The slides container. Its array positions mean nothing: the slide order is by each slide's `order` key
 * (orderedSlides). Add slides at its end (insertSlide), delete them where they are (findSlideIndex).
 */
export function getSlides(doc: Y.Doc): Y.Array<Y.Map<unknown>> {
  return doc.getArray('slides');
}

export function getComments(doc: Y.Doc): Y.Map<Y.Array<Y.Map<unknown>>> {
  return doc.getMap('comments');
}

export function createSlide(init: SlideInit): Y.Map<unknown> {
  const slide = new Y.Map<unknown>();
  slide.set('id', init.id);
  if (init.order !== undefined) slide.set('order', init.order);
  slide.set('title', new Y.Text(init.title ?? ''));
  slide.set('body', new Y.Text(init.body ?? ''));
  slide.set('notes', new Y.Text(init.notes ?? ''));
  slide.set('elements', new Y.Map());
  return slide;
}

/** A slide in the slide order. */
export interface OrderedSlide {
  id: string;
  /** Its effective order key: its own, or derived from the array when it has none (see shared/slide-order.ts). */
  order: string;
  /** Whether `order` was derived (the slide map holds no valid key: a migration writes this one). */
  derived: boolean;
  slide: Y.Map<unknown>;
  /** Its position in the container. */
  arrayIndex: number;
}

/** The slides in the slide order: by (order, id). Entries without a string id are left out. */
export function orderedSlides(doc: Y.Doc): OrderedSlide[] {
  const maps = getSlides(doc).toArray();
  const { keys, derived } = effectiveOrderKeys(maps.map((slide) => slide.get('order')));
  const slides: OrderedSlide[] = [];
  maps.forEach((slide, arrayIndex) => {
    const id = slide.get('id');
    if (typeof id === 'string') slides.push({ id, order: keys[arrayIndex] as string, derived: derived[arrayIndex] as boolean, slide, arrayIndex });
  });
  return slides.sort(compareOrder);
}

/**
 * Inserts a slide at position `index` of the slide order (default: the end) and returns its map. The map goes at
 * the container's end with an order key between its neighbours'.
 */
export function insertSlide(doc: Y.Doc, init: SlideInit, index?: number): Y.Map<unknown> {
  return pushSlide(doc, createSlide(withOrder(doc, init, index)));
}

/** `init` with its order key: the given one, else one for position `index` (default: the end). */
function withOrder(doc: Y.Doc, init: SlideInit, index: number | undefined): SlideInit {
  if (init.order !== undefined) return init;
  const ordered = orderedSlides(doc);
  return { ...init, order: orderKeyAt(ordered, index ?? ordered.length) };
}

function pushSlide(doc: Y.Doc, slide: Y.Map<unknown>): Y.Map<unknown> {
  getSlides(doc).push([slide]);
  return slide;
}

/**
 * Moves a slide to position `index` of the slide order (counted without the slide itself): sets its `order` key
 * only, so concurrent moves never duplicate or lose it. Returns false when there is no such slide.
 */
export function moveSlide(doc: Y.Doc, slideId: string, index: number): boolean {
  const ordered = orderedSlides(doc);
  const at = ordered.findIndex((s) => s.id === slideId);
  if (at < 0) return false;
  const [moving] = ordered.splice(at, 1) as [OrderedSlide];
  moving.slide.set('order', orderKeyAt(ordered, index));
  return true;
}

/** The position of a slide in the slide order, or -1. */
export function slidePosition(doc: Y.Doc, slideId: string): number {
  return orderedSlides(doc).findIndex((s) => s.id === slideId);
}

/** The container index (getSlides) of the first slide in the order with this id, or -1: what a delete needs. */
export function findSlideIndex(doc: Y.Doc, slideId: string): number {
  return orderedSlides(doc).find((s) => s.id === slideId)?.arrayIndex ?? -1;
}

/** The first slide in the order with this id. */
export function findSlide(doc: Y.Doc, slideId: string): Y.Map<unknown> | undefined {
  return orderedSlides(doc).find((s) => s.id === slideId)?.slide;
}

export function slideText(slide: Y.Map<unknown>, field: 'title' | 'body' | 'notes'): Y.Text {
  const text = slide.get(field);
  if (!(text instanceof Y.Text)) throw new Error(`slide field ${field} is not a Y.Text`);
  return text;
}

export function addComment(doc: Y.Doc, slideId: string, init: CommentInit): Y.Map<unknown> {
  const comments = getComments(doc);
  const comment = new Y.Map<unknown>();
  comment.set('id', init.id);
  comment.set('author', init.author);
  comment.set('text', init.text);
  comment.set('createdAt', init.createdAt ?? new Date().toISOString());
  comment.set('resolved', init.resolved ?? false);
  doc.transact(() => {
    let thread = comments.get(slideId);
    if (!thread) {
      thread = new Y.Array<Y.Map<unknown>>();
      comments.set(slideId, thread);
    }
    thread.push([comment]);
  });
  return comment;
}

/** A plain JSON view of the whole document (slides in the slide order), for tests, exports and debugging. */
export function toPlain(doc: Y.Doc): { meta: unknown; slides: unknown[]; comments: unknown } {
  return {
    meta: getMeta(doc).toJSON(),
    slides: orderedSlides(doc).map((s) => s.slide.toJSON()),
    comments: getComments(doc).toJSON(),
  };
}

// ── Rich text ────────────────────────────────────────────────────────────────────────────────────────────────
//
// Rich-text editors (TipTap, y-prosemirror) bind a Y.XmlFragment, not a Y.Text. A slide's rich body therefore lives
// in its own field, `content: Y.XmlFragment`, next to `body` (Y.Text), which stays the plain-text body for clients
// that do not render rich text. Nothing mirrors one field into the other. Inside `content`, elements carry
// ProseMirror node names (`paragraph`, `heading`, `bulletList`…), as y-prosemirror writes them. Everything under a
// slide map, `content` included, is covered by that slide's lock.

export const SLIDE_CONTENT_FIELD = 'content';

/** The slide's rich body, or undefined for a slide created without one (see ensureSlideContent). */
export function slideContent(slide: Y.Map<unknown>): Y.XmlFragment | undefined {
  const content = slide.get(SLIDE_CONTENT_FIELD);
  return content instanceof Y.XmlFragment ? content : undefined;
}

/** One `paragraph` element per line of `text`. */
function paragraphsOf(text: string): Y.XmlElement[] {
  if (text.length === 0) return [];
  return text.split('\n').map((line) => {
    const paragraph = new Y.XmlElement('paragraph');
    if (line.length > 0) paragraph.insert(0, [new Y.XmlText(line)]);
    return paragraph;
  });
}

/** Builds a rich-text slide: the plain fields of createSlide plus `content`, seeded with `body` as paragraphs. */
export function createRichSlide(init: SlideInit): Y.Map<unknown> {
  const slide = createSlide(init);
  const content = new Y.XmlFragment();
  content.insert(0, paragraphsOf(init.body ?? ''));
  slide.set(SLIDE_CONTENT_FIELD, content);
  return slide;
}

/** Inserts a rich-text slide at position `index` of the slide order (default: the end) and returns its map. */
export function insertRichSlide(doc: Y.Doc, init: SlideInit, index?: number): Y.Map<unknown> {
  return pushSlide(doc, createRichSlide(withOrder(doc, init, index)));
}

/**
 * The slide's rich body, created (seeded with the plain `body`) when the slide has none. Two clients adding it to
 * the same slide at the same moment race (a Y.Map key keeps one value): call it on a synced document, before the
 * user types, so what the losing client seeded is only a copy of `body`.
 */
export function ensureSlideContent(slide: Y.Map<unknown>): Y.XmlFragment {
  const existing = slideContent(slide);
  if (existing) return existing;
  const content = new Y.XmlFragment();
  const doc = slide.doc;
  const create = () => {
    slide.set(SLIDE_CONTENT_FIELD, content);
    content.insert(0, paragraphsOf(slideText(slide, 'body').toString()));
  };
  if (doc) doc.transact(create);
  else create();
  return content;
}

/** The text of a rich body, one line per top-level block (formatting dropped). */
export function richTextToPlain(content: Y.XmlFragment): string {
  const textOf = (node: Y.XmlElement | Y.XmlText | Y.XmlHook): string => {
    if (node instanceof Y.XmlText) {
      return (node.toDelta() as { insert?: unknown }[]).map((op) => (typeof op.insert === 'string' ? op.insert : '')).join('');
    }
    if (node instanceof Y.XmlElement) return node.toArray().map(textOf).join('');
    return '';
  };
  return content.toArray().map(textOf).join('\n');
}

// ── Plain JSON (shared/document-json.ts) ─────────────────────────────────────────────────────────────────────

/** The slides a JSON client sees: the slide order, each id once (the first slide in the order with it). */
export function visibleSlides(doc: Y.Doc): OrderedSlide[] {
  const seen = new Set<string>();
  return orderedSlides(doc).filter((s) => !seen.has(s.id) && seen.add(s.id));
}

/** A slide field's plain text ('' when the field is missing or not a Y.Text). */
export function fieldText(slide: Y.Map<unknown>, field: SlideField): string {
  const text = slide.get(field);
  return text instanceof Y.Text ? text.toString() : '';
}

export function slideJsonOf(id: string, slide: Y.Map<unknown>): SlideJson {
  return { id, title: fieldText(slide, 'title'), body: fieldText(slide, 'body'), notes: fieldText(slide, 'notes') };
}

/** A meta value as JSON (Yjs types as their JSON); undefined for null and undefined, which the JSON view omits. */
export function metaValueJson(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  return value instanceof Y.AbstractType ? (value.toJSON() as unknown) : value;
}

/** The document as plain JSON: what `connected` and `GET …/document` carry. */
export function documentJsonOf(doc: Y.Doc): DocumentJson {
  const meta: Record<string, unknown> = {};
  getMeta(doc).forEach((value, key) => {
    if (!isMetaKey(key)) return;
    const json = metaValueJson(value);
    if (json !== undefined) meta[key] = json;
  });
  return { meta, slides: visibleSlides(doc).map((s) => slideJsonOf(s.id, s.slide)) };
}
