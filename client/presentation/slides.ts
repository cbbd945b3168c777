/**
 * The slides of a presentation document (shared/presentation.ts schema): list, add, remove, and the shared types to
 * bind editors to — `title` (Y.Text), `body` (Y.Text, plain) and `content` (Y.XmlFragment, rich text for TipTap).
 */
import * as Y from 'yjs';
import { isSlideId } from '../../shared/locks.js';
import { ensureSlideContent, findSlide, findSlideIndex, getSlides, insertRichSlide, slideContent, slideText } from '../../shared/presentation.js';
import { Emitter } from '../emitter.js';
import { randomId } from '../random-id.js';

export interface SlideSummary {
  id: string;
  title: string;
}

export interface NewSlide {
  /** Default: a random `slide-…` id. */
  id?: string;
  title?: string;
  /** Plain text; becomes both `body` and the first paragraphs of `content`. */
  body?: string;
}

export class Slides {
  private readonly events = new Emitter<{ change: SlideSummary[] }>();
  private readonly array: Y.Array<Y.Map<unknown>>;
  private readonly onDeepChange = () => this.events.emit('change', this.list());

  constructor(private readonly doc: Y.Doc) {
    this.array = getSlides(doc);
    this.array.observeDeep(this.onDeepChange);
  }

  list(): SlideSummary[] {
    return this.array.toArray().flatMap((slide) => {
      const id = slide.get('id');
      const title = slide.get('title');
      return typeof id === 'string' ? [{ id, title: title instanceof Y.Text ? title.toString() : '' }] : [];
    });
  }

  has(slideId: string): boolean {
    return findSlideIndex(this.doc, slideId) >= 0;
  }

  /** Adds a slide (with a rich-text `content`) at `index` (default: the end); returns its id. */
  add(slide: NewSlide = {}, index?: number): string {
    const id = slide.id ?? `slide-${randomId()}`;
    if (!isSlideId(id)) throw new TypeError(`not a slide id: ${JSON.stringify(id)}`);
    if (this.has(id)) throw new TypeError(`slide ${id} already exists`);
    insertRichSlide(this.doc, { id, title: slide.title, body: slide.body }, index);
    return id;
  }

  remove(slideId: string): void {
    const index = findSlideIndex(this.doc, slideId);
    if (index >= 0) this.array.delete(index, 1);
  }

  title(slideId: string): Y.Text {
    return slideText(this.require(slideId), 'title');
  }

  body(slideId: string): Y.Text {
    return slideText(this.require(slideId), 'body');
  }

  /**
   * The rich body to bind TipTap / y-prosemirror to. A slide made without one (by an older or plain-text client)
   * gets it now, seeded with its plain `body`: call this on a synced session (see shared/ensureSlideContent).
   */
  content(slideId: string): Y.XmlFragment {
    const slide = this.require(slideId);
    return slideContent(slide) ?? ensureSlideContent(slide);
  }

  onChange(listener: (slides: SlideSummary[]) => void): () => void {
    return this.events.on('change', listener);
  }

  dispose(): void {
    this.array.unobserveDeep(this.onDeepChange);
    this.events.clear();
  }

  private require(slideId: string): Y.Map<unknown> {
    const slide = findSlide(this.doc, slideId);
    if (!slide) throw new TypeError(`no slide ${slideId}`);
    return slide;
  }
}
