/**
 * The slides of a presentation document (shared/presentation.ts schema): list (in the slide order), add, move,
 * remove, and the shared types to bind editors to — `title` (Y.Text), `body` (Y.Text, plain) and `content`
 * (Y.XmlFragment, rich text for TipTap). A move sets the slide's order key only (shared/slide-order.ts), so two
 * users moving one slide at once never duplicate or lose it.
 */
import * as Y from 'yjs';
import { isSlideId } from '../../shared/locks.js';
import {
  ensureSlideContent,
  findSlide,
  findSlideIndex,
  getSlides,
  insertRichSlide,
  moveSlide,
  slideContent,
  slideText,
  visibleSlides,
} from '../../shared/presentation.js';
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
  private array: Y.Array<Y.Map<unknown>>;
  private readonly onDeepChange = () => this.events.emit('change', this.list());

  constructor(private doc: Y.Doc) {
    this.array = getSlides(doc);
    this.array.observeDeep(this.onDeepChange);
  }

  /** Follows a replacement document (the session's resync): listeners stay, and hear the slides of the new one. */
  rebind(doc: Y.Doc): void {
    this.array.unobserveDeep(this.onDeepChange);
    this.doc = doc;
    this.array = getSlides(doc);
    this.array.observeDeep(this.onDeepChange);
    this.onDeepChange();
  }

  /** The slides in the slide order (by order key, not by array position). */
  list(): SlideSummary[] {
    return visibleSlides(this.doc).map(({ id, slide }) => {
      const title = slide.get('title');
      return { id, title: title instanceof Y.Text ? title.toString() : '' };
    });
  }

  has(slideId: string): boolean {
    return findSlideIndex(this.doc, slideId) >= 0;
  }

  /** Adds a slide (with a rich-text `content`) at position `index` of the order (default: the end); returns its id. */
  add(slide: NewSlide = {}, index?: number): string {
    const id = slide.id ?? `slide-${randomId()}`;
    if (!isSlideId(id)) throw new TypeError(`not a slide id: ${JSON.stringify(id)}`);
    if (this.has(id)) throw new TypeError(`slide ${id} already exists`);
    insertRichSlide(this.doc, { id, title: slide.title, body: slide.body }, index);
    return id;
  }

  /** Moves a slide to position `index` of the order (counted without the slide itself); false if there is none. */
  move(slideId: string, index: number): boolean {
    return moveSlide(this.doc, slideId, index);
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
