/**
 * Restoring a version as a forward change: the live document's shared types are edited in place until
 * their content equals the version's, so every replica converges by applying one ordinary update, without reloading.
 *
 * A structural diff, generic over the schema of shared/presentation.ts (nothing here knows slide fields):
 * - maps: keys the version lacks are deleted, missing or different values set; nested types of the same kind are
 *   diffed in place (a slide's `title` Y.Text is edited, not replaced);
 * - sequences (Y.Array, XML children): items are matched by `id` when they are maps with one (slides, comments),
 *   else by content; the heaviest order-preserving set of matches stays, the rest is deleted and inserted (a moved
 *   slide is deleted and re-inserted). Between kept items, unkeyed items of the same kind are diffed in place;
 * - text (Y.Text, Y.XmlText): one edit, the common prefix and suffix kept (never splitting a surrogate pair);
 *   formatted text whose formatting differs is rewritten from the version's delta;
 * - XML elements: attributes like a map, children like a sequence.
 *
 * `planPatch` runs the same walk without changing anything and reports which slides the change would touch (the
 * lock check), `applyPatch` makes the change: call it inside one transaction on the live document.
 */
import * as Y from 'yjs';
import { getComments, getMeta, getSlides } from '../../shared/presentation.js';
import { anchorsOf } from './sequence-match.js';
import { cloneValue, equalValues, idOf, sameKind, stableStringify, type AnyType } from './values.js';

export interface PatchOptions {
  /** Slides to keep in place when the slide order is fixed (locked slides: moving one would change it). */
  keepInPlace?: ReadonlySet<string>;
}

export interface PatchSummary {
  /** Elementary changes (0: the live document already equals the version). */
  changes: number;
  /** Slides the change deletes, inserts, moves or edits inside. */
  touchedSlides: Set<string>;
}

/** What `applyPatch` would change, without changing anything. */
export function planPatch(live: Y.Doc, target: Y.Doc, options: PatchOptions = {}): PatchSummary {
  return new Patcher(false, options).run(live, target);
}

/** Makes `live`'s content equal `target`'s (call inside a transaction on `live`). */
export function applyPatch(live: Y.Doc, target: Y.Doc, options: PatchOptions = {}): PatchSummary {
  return new Patcher(true, options).run(live, target);
}

interface SequenceOps {
  insert(index: number, item: unknown): void;
  delete(index: number): void;
}

const arrayOps = (array: Y.Array<unknown>): SequenceOps => ({
  insert: (index, item) => array.insert(index, [item]),
  delete: (index) => array.delete(index, 1),
});
const childOps = (fragment: Y.XmlFragment): SequenceOps => ({
  insert: (index, item) => fragment.insert(index, [item as Y.XmlElement | Y.XmlText]),
  delete: (index) => fragment.delete(index, 1),
});

type DeltaOp = { insert?: unknown; attributes?: Record<string, unknown> };

class Patcher {
  private readonly summary: PatchSummary = { changes: 0, touchedSlides: new Set() };
  /** The slide whose subtree is being diffed (null outside the slide list). */
  private slide: string | null = null;

  constructor(
    private readonly apply: boolean,
    private readonly options: PatchOptions,
  ) {}

  run(live: Y.Doc, target: Y.Doc): PatchSummary {
    this.map(getMeta(live), getMeta(target));
    const keep = this.options.keepInPlace;
    const slides = getSlides(live);
    this.sequence(arrayOps(slides as Y.Array<unknown>), slides.toArray(), getSlides(target).toArray(), {
      scopeOf: idOf,
      // One kept locked slide outweighs every other slide together.
      weight: (item) => (keep?.has(idOf(item) ?? '') ? slides.length + 1 : 1),
    });
    this.map(getComments(live) as Y.Map<unknown>, getComments(target) as Y.Map<unknown>);
    return this.summary;
  }

  private change(scope: string | null, mutate: () => void): void {
    this.summary.changes++;
    if (scope !== null) this.summary.touchedSlides.add(scope);
    if (this.apply) mutate();
  }

  private within(scope: string | null, diff: () => void): void {
    const outer = this.slide;
    this.slide = scope ?? outer;
    try {
      diff();
    } finally {
      this.slide = outer;
    }
  }

  /** A value in a map or attribute: shared types of one kind are diffed in place, anything else is replaced. */
  private value(live: unknown, target: unknown, replace: () => void): void {
    if (live instanceof Y.AbstractType && target instanceof Y.AbstractType) {
      if (sameKind(live, target)) {
        this.type(live, target);
        return;
      }
    } else if (!(live instanceof Y.AbstractType) && !(target instanceof Y.AbstractType) && equalValues(live, target)) {
      return;
    }
    this.change(this.slide, replace);
  }

  private type(live: AnyType, target: AnyType): void {
    if (live instanceof Y.Text) {
      this.text(live, target as Y.Text);
      return;
    }
    if (live instanceof Y.XmlElement) this.attributes(live, target as Y.XmlElement);
    if (live instanceof Y.XmlFragment) this.sequence(childOps(live), live.toArray(), (target as Y.XmlFragment).toArray());
    else if (live instanceof Y.Array) this.sequence(arrayOps(live), live.toArray(), (target as Y.Array<unknown>).toArray());
    else if (live instanceof Y.Map) this.map(live, target as Y.Map<unknown>);
  }

  private map(live: Y.Map<unknown>, target: Y.Map<unknown>): void {
    for (const key of [...live.keys()]) {
      if (!target.has(key)) this.change(this.slide, () => live.delete(key));
    }
    for (const [key, value] of target.entries()) {
      const replace = () => live.set(key, cloneValue(value));
      if (!live.has(key)) this.change(this.slide, replace);
      else this.value(live.get(key), value, replace);
    }
  }

  private attributes(live: Y.XmlElement, target: Y.XmlElement): void {
    const from = live.getAttributes() as Record<string, unknown>;
    const to = target.getAttributes() as Record<string, unknown>;
    const set = (key: string, value: unknown) => live.setAttribute(key, cloneValue(value) as never);
    for (const key of Object.keys(from)) {
      if (!(key in to)) this.change(this.slide, () => live.removeAttribute(key));
    }
    for (const [key, value] of Object.entries(to)) {
      if (!(key in from)) this.change(this.slide, () => set(key, value));
      else this.value(from[key], value, () => set(key, value));
    }
  }

  private text(live: Y.Text, target: Y.Text): void {
    const from = live.toDelta() as DeltaOp[];
    const to = target.toDelta() as DeltaOp[];
    if (isPlain(from) && isPlain(to)) {
      const edit = textEdit(plainText(from), plainText(to));
      if (edit.deleteCount === 0 && edit.insert === '') return;
      this.change(this.slide, () => {
        if (edit.deleteCount > 0) live.delete(edit.start, edit.deleteCount);
        if (edit.insert !== '') live.insert(edit.start, edit.insert);
      });
      return;
    }
    if (stableStringify(from) === stableStringify(to)) return;
    this.change(this.slide, () => {
      live.delete(0, live.length);
      live.applyDelta(to.map((op) => ({ ...op, insert: typeof op.insert === 'string' ? op.insert : cloneValue(op.insert) })));
    });
  }

  private sequence(
    ops: SequenceOps,
    live: readonly unknown[],
    target: readonly unknown[],
    rules: { scopeOf?: (item: unknown) => string | null; weight?: (item: unknown) => number } = {},
  ): void {
    const scope = (item: unknown) => (rules.scopeOf ? rules.scopeOf(item) : this.slide);
    let position = 0;
    let l = 0;
    let t = 0;
    const gap = (liveEnd: number, targetEnd: number) => {
      for (let k = 0; l + k < liveEnd || t + k < targetEnd; k++) {
        const hasLive = l + k < liveEnd;
        const hasTarget = t + k < targetEnd;
        const from = live[l + k];
        const to = target[t + k];
        if (hasLive && hasTarget && pairable(from, to)) {
          this.within(scope(from), () => this.type(from as AnyType, to as AnyType));
          position++;
          continue;
        }
        if (hasLive) this.change(scope(from), () => ops.delete(position));
        if (hasTarget) {
          this.change(scope(to), () => ops.insert(position, cloneValue(to)));
          position++;
        }
      }
    };
    for (const [liveIndex, targetIndex] of anchorsOf(live, target, rules.weight)) {
      gap(liveIndex, targetIndex);
      const from = live[liveIndex];
      const to = target[targetIndex];
      if (from instanceof Y.AbstractType && to instanceof Y.AbstractType) this.within(scope(from), () => this.type(from, to));
      position++;
      l = liveIndex + 1;
      t = targetIndex + 1;
    }
    gap(live.length, target.length);
  }
}

/** Unmatched neighbours edited in place: shared types of one kind, except maps with an `id` (other slides). */
function pairable(from: unknown, to: unknown): boolean {
  return from instanceof Y.AbstractType && to instanceof Y.AbstractType && sameKind(from, to) && idOf(from) === null && idOf(to) === null;
}

function isPlain(delta: DeltaOp[]): boolean {
  return delta.every((op) => typeof op.insert === 'string' && (op.attributes === undefined || Object.keys(op.attributes).length === 0));
}

function plainText(delta: DeltaOp[]): string {
  return delta.map((op) => op.insert as string).join('');
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** The one edit that turns `from` into `to`: keep the common prefix and suffix, replace the middle. */
export function textEdit(from: string, to: string): { start: number; deleteCount: number; insert: string } {
  const max = Math.min(from.length, to.length);
  let start = 0;
  while (start < max && from.charCodeAt(start) === to.charCodeAt(start)) start++;
  if (start > 0 && isHighSurrogate(from.charCodeAt(start - 1))) start--;
  let end = 0;
  while (end < max - start && from.charCodeAt(from.length - 1 - end) === to.charCodeAt(to.length - 1 - end)) end++;
  if (end > 0 && isLowSurrogate(from.charCodeAt(from.length - end))) end--;
  return { start, deleteCount: from.length - start - end, insert: to.slice(start, to.length - end) };
}
