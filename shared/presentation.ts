/**
 * The presentation document schema (one Yjs document per presentation, named `presentation:{id}`) and helpers to read
 * and write it with Yjs.
 *
 *   Y.Doc
 *    ├─ meta: Y.Map            title, theme …
 *    ├─ slides: Y.Array<Y.Map> id (string), title (Y.Text), body (Y.Text), notes (Y.Text), elements (Y.Map),
 *    │                         content (Y.XmlFragment, rich body; optional, see "Rich text" below)
 *    └─ comments: Y.Map<Y.Array> slide id → thread of comment maps {id, author, text, createdAt, resolved}
 */
import * as Y from 'yjs';

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

export function getSlides(doc: Y.Doc): Y.Array<Y.Map<unknown>> {
  return doc.getArray('slides');
}

export function getComments(doc: Y.Doc): Y.Map<Y.Array<Y.Map<unknown>>> {
  return doc.getMap('comments');
}

export function createSlide(init: SlideInit): Y.Map<unknown> {
  const slide = new Y.Map<unknown>();
  slide.set('id', init.id);
  slide.set('title', new Y.Text(init.title ?? ''));
  slide.set('body', new Y.Text(init.body ?? ''));
  slide.set('notes', new Y.Text(init.notes ?? ''));
  slide.set('elements', new Y.Map());
  return slide;
}

/** Inserts a slide at `index` (default: the end) and returns its map. */
export function insertSlide(doc: Y.Doc, init: SlideInit, index?: number): Y.Map<unknown> {
  const slides = getSlides(doc);
  const slide = createSlide(init);
  slides.insert(index ?? slides.length, [slide]);
  return slide;
}

export function findSlideIndex(doc: Y.Doc, slideId: string): number {
  const slides = getSlides(doc);
  for (let i = 0; i < slides.length; i++) {
    if (slides.get(i).get('id') === slideId) return i;
  }
  return -1;
}

export function findSlide(doc: Y.Doc, slideId: string): Y.Map<unknown> | undefined {
  const i = findSlideIndex(doc, slideId);
  return i < 0 ? undefined : getSlides(doc).get(i);
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

/** A plain JSON view of the document, for tests, exports and debugging. */
export function toPlain(doc: Y.Doc): { meta: unknown; slides: unknown[]; comments: unknown } {
  return {
    meta: getMeta(doc).toJSON(),
    slides: getSlides(doc).toJSON(),
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

/** Inserts a rich-text slide at `index` (default: the end) and returns its map. */
export function insertRichSlide(doc: Y.Doc, init: SlideInit, index?: number): Y.Map<unknown> {
  const slides = getSlides(doc);
  const slide = createRichSlide(init);
  slides.insert(index ?? slides.length, [slide]);
  return slide;
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
