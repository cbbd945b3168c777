/**
 * The presentation document as plain JSON (design §12), for clients without Yjs: `connected.document`,
 * `GET /presentations/{id}/document`, and the copy a JSON client keeps by applying every `edit_operation`.
 *
 *   { "meta": { "title": "Q3", … }, "slides": [ { "id": "s1", "title": "…", "body": "…", "notes": "…" }, … ] }
 *
 * Slides are in the slide order. A slide id appears once (were two slide maps to carry one id, the first in the
 * order is the slide). Meta keys whose value is null are absent. Comments, rich bodies and elements are not part of
 * it (they are read over Yjs). No Yjs here: this module is for front-ends without it.
 */
import type { AppliedOperation, SlideField } from './operations.js';

export interface SlideJson {
  id: string;
  title: string;
  body: string;
  notes: string;
}

export interface DocumentJson {
  meta: Record<string, unknown>;
  slides: SlideJson[];
}

export class OperationMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperationMismatch';
  }
}

function slideOf(doc: DocumentJson, slideId: string): SlideJson {
  const slide = doc.slides.find((s) => s.id === slideId);
  if (!slide) throw new OperationMismatch(`no slide ${slideId}`);
  return slide;
}

function fieldOf(slide: SlideJson, field: SlideField): string {
  return slide[field];
}

function checkIndex(index: number, max: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index > max) throw new OperationMismatch(`${what} ${index} out of range 0..${max}`);
}

/**
 * Applies an `edit_operation` to a JSON copy, in place. Throws OperationMismatch when it does not fit the copy
 * (the copy is out of step: resynchronize from a fresh `connected` or GET).
 */
export function applyOperation(doc: DocumentJson, op: AppliedOperation): void {
  switch (op.type) {
    case 'add_slide': {
      if (doc.slides.some((s) => s.id === op.slide_id)) throw new OperationMismatch(`slide ${op.slide_id} exists`);
      checkIndex(op.index, doc.slides.length, 'slide index');
      doc.slides.splice(op.index, 0, { id: op.slide_id, title: op.content.title, body: op.content.body, notes: op.content.notes });
      return;
    }
    case 'delete_slide': {
      const at = doc.slides.findIndex((s) => s.id === op.slide_id);
      if (at < 0) throw new OperationMismatch(`no slide ${op.slide_id}`);
      doc.slides.splice(at, 1);
      return;
    }
    case 'move_slide': {
      const at = doc.slides.findIndex((s) => s.id === op.slide_id);
      if (at < 0) throw new OperationMismatch(`no slide ${op.slide_id}`);
      const [slide] = doc.slides.splice(at, 1) as [SlideJson];
      checkIndex(op.index, doc.slides.length, 'slide index');
      doc.slides.splice(op.index, 0, slide);
      return;
    }
    case 'insert': {
      const slide = slideOf(doc, op.slide_id);
      const text = fieldOf(slide, op.field);
      checkIndex(op.index, text.length, 'text index');
      slide[op.field] = text.slice(0, op.index) + op.content.text + text.slice(op.index);
      return;
    }
    case 'delete': {
      const slide = slideOf(doc, op.slide_id);
      const text = fieldOf(slide, op.field);
      checkIndex(op.index, text.length, 'text index');
      checkIndex(op.index + op.length, text.length, 'text end');
      slide[op.field] = text.slice(0, op.index) + text.slice(op.index + op.length);
      return;
    }
    case 'set_meta': {
      if (op.value === null || op.value === undefined) delete doc.meta[op.key];
      else doc.meta[op.key] = op.value;
      return;
    }
  }
}

/** A deep copy (JSON values only). */
export function cloneDocument(doc: DocumentJson): DocumentJson {
  return JSON.parse(JSON.stringify(doc)) as DocumentJson;
}
