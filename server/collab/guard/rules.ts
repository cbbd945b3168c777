/**
 * What a writer may insert and delete, judged per struct by its place (design §3, §5; issue #11):
 *
 * slides    a commenter nothing; nobody inside a slide another user has locked (the slide's Y.Map, whatever its
 *           `id` says); a new slide's `id` must not be taken by a live slide; an existing slide's `id` never changes.
 * comments  one thread (a Y.Array) per slide id, created by anyone who may comment; replacing an existing thread
 *           only by a moderator. A new comment (a Y.Map in a thread) must name the writer as its `author` (also for
 *           owners and editors: authorship is stamped, not chosen). On an existing comment `author` never changes,
 *           `resolved` is open to every commenter, anything else only to its author or a moderator (owner, editor);
 *           deleting a comment likewise, and deleting a thread is deleting every comment in it.
 * elsewhere a commenter nothing; editors and owners everything.
 *
 * A map set deletes the key's previous value when Yjs integrates it, so the rule for setting a key is always the
 * rule for deleting its value. Verdicts of new structs are inherited by the structs inside them.
 */
import * as Y from 'yjs';
import type { ErrorCode } from '../../../shared/errors.js';
import { getComments, getSlides } from '../../../shared/presentation.js';
import type { DecodedUpdate } from './decoded-update.js';
import type { Link, Place, Places } from './places.js';
import type { Writer } from './writer.js';

export interface Denial {
  code: Extract<ErrorCode, 'PERMISSION_DENIED' | 'LOCKED' | 'CONFLICT'>;
  reason: string;
  /** The slide id a LOCKED or CONFLICT denial is about. */
  slideId?: string;
  holder?: string;
}

/** 'allow'; 'void' (integrates as GC whatever the rules say); or a denial. */
export type Verdict = 'allow' | 'void' | Denial;

const ONLY_COMMENTS: Denial = { code: 'PERMISSION_DENIED', reason: 'commenters may only change comments' };
const NOT_YOURS: Denial = { code: 'PERMISSION_DENIED', reason: 'you may only change or delete your own comments' };
const AUTHOR_FIXED: Denial = { code: 'PERMISSION_DENIED', reason: "a comment's author cannot change" };
const THREAD_SHAPE: Denial = { code: 'PERMISSION_DENIED', reason: 'comments hold one thread (an array of comment maps) per slide' };
const THREAD_EXISTS: Denial = { code: 'PERMISSION_DENIED', reason: 'a thread that exists cannot be replaced' };

const typeOf = (item: Y.Item): Y.AbstractType<unknown> | null =>
  item.content instanceof Y.ContentType ? (item.content.type as Y.AbstractType<unknown>) : null;
/**
 * The value a map entry shows every replica: Y.Map reads the LAST element of an entry's content, whatever the
 * content kind (a hand-made entry may carry several values, or a ContentJSON / ContentString), so the guard reads it
 * the same way and never judges a value other than the one clients will see.
 */
const entryValue = (item: Y.Item): unknown => {
  const content = item.content.getContent();
  return content[content.length - 1];
};
/** Whether a map entry is one plain value, as `Y.Map.set(key, value)` writes it. */
const isPlainValue = (item: Y.Item): boolean => item.content instanceof Y.ContentAny && item.length === 1;
const ID_SHAPE: Denial = { code: 'CONFLICT', reason: 'a slide id is one string value' };

export class Rules {
  /** new struct → its verdict when it is not 'allow' (children inherit it) */
  private denied: Map<Y.Item, Verdict> | undefined;
  /** new struct → new structs placed directly inside it, with their keys (built when first needed) */
  private children: Map<Y.Item, Link[]> | undefined;
  private removals: Map<Y.Item, Verdict> | undefined;
  private slideIds: Set<string> | undefined;

  constructor(
    private readonly doc: Y.Doc,
    private readonly update: DecodedUpdate,
    private readonly places: Places,
    private readonly writer: Writer,
  ) {}

  /** The verdict on a new struct (ask in integration order, after every new struct was placed). */
  insert(item: Y.Item, place: Place): Verdict {
    const verdict = this.judgeInsert(item, place);
    if (verdict !== 'allow') {
      this.denied ??= new Map();
      this.denied.set(item, verdict);
    }
    return verdict;
  }

  private verdictOf(item: Y.Item): Verdict {
    return this.denied?.get(item) ?? 'allow';
  }

  /** New structs placed directly inside a new struct. */
  private childrenOf(item: Y.Item): Link[] {
    if (!this.children) {
      this.children = new Map();
      for (const place of this.places.placed()) {
        const n = place.links.length;
        const parent = n >= 2 ? (place.links[n - 2] as Link) : undefined;
        if (!parent?.fromUpdate) continue;
        const list = this.children.get(parent.item);
        if (list) list.push(place.links[n - 1] as Link);
        else this.children.set(parent.item, [place.links[n - 1] as Link]);
      }
    }
    return this.children.get(item) ?? [];
  }

  /** The verdict on deleting a live struct of the document. */
  remove(item: Y.Item): Verdict {
    const place = this.places.existing(item);
    if (place.root === null) return 'allow';
    if (place.root === 'slides') return this.slideChange(place, false);
    if (place.root === 'comments') return this.commentRemoval(place);
    return this.writer.commentOnly ? ONLY_COMMENTS : 'allow';
  }

  private judgeInsert(item: Y.Item, place: Place): Verdict {
    if (place.root === null) return 'void';
    // A neighbour that will not be integrated (denied, so written as GC) makes this one GC too.
    if (this.denied && (this.deniedNeighbour(item.origin) || this.deniedNeighbour(item.rightOrigin))) return 'void';
    // Inside a new struct of this update: its verdict (which already includes its own ancestors') is inherited.
    const parent = place.links[place.links.length - 2];
    if (parent?.fromUpdate) {
      const inherited = this.verdictOf(parent.item);
      if (inherited !== 'allow') return inherited;
    }
    if (place.root === 'slides') return this.slideChange(place, true);
    if (place.root === 'comments') return this.commentInsert(item, place);
    return this.writer.commentOnly ? ONLY_COMMENTS : 'allow';
  }

  private deniedNeighbour(id: Y.ID | null): boolean {
    const found = id ? this.places.lookup(id) : null;
    return found?.fromUpdate === true && this.verdictOf(found.struct as Y.Item) !== 'allow';
  }

  private slideChange(place: Place, inserting: boolean): Verdict {
    if (this.writer.commentOnly) return ONLY_COMMENTS;
    const slide = place.links[0] as Link;
    const type = slide.fromUpdate ? null : typeOf(slide.item);
    const lock = type ? this.writer.locked.get(type) : undefined;
    if (lock) return { code: 'LOCKED', reason: `slide ${lock.slideId} is locked by ${lock.holder}`, slideId: lock.slideId, holder: lock.holder };
    if (inserting && place.links.length === 1) return this.newSlide(slide.item);
    if (place.links.length === 2 && (place.links[1] as Link).key === 'id' && type instanceof Y.Map) {
      if (!inserting && (slide.item.deleted || this.update.isDeleted(slide.item.id))) return 'allow';
      const current = type.get('id');
      if (inserting && current === undefined) return this.claimSlideId((place.links[1] as Link).item);
      return { code: 'CONFLICT', reason: 'a slide id cannot change', slideId: typeof current === 'string' ? current : undefined };
    }
    return 'allow';
  }

  private newSlide(item: Y.Item): Verdict {
    for (const child of this.childrenOf(item)) {
      if (child.key !== 'id') continue;
      const verdict = this.claimSlideId(child.item);
      if (verdict !== 'allow') return verdict;
    }
    return 'allow';
  }

  private claimSlideId(item: Y.Item): Verdict {
    const id = entryValue(item);
    if (!isPlainValue(item) || typeof id !== 'string') return ID_SHAPE;
    this.slideIds ??= this.liveSlideIds();
    if (this.slideIds.has(id)) return { code: 'CONFLICT', reason: `a slide with id ${id} already exists`, slideId: id };
    this.slideIds.add(id);
    return 'allow';
  }

  /** Ids of the slides that exist and that this update does not delete. */
  private liveSlideIds(): Set<string> {
    const ids = new Set<string>();
    for (let item = getSlides(this.doc)._start; item !== null; item = item.right) {
      if (item.deleted || this.update.isDeleted(item.id)) continue;
      const type = typeOf(item);
      const id = type instanceof Y.Map ? type.get('id') : undefined;
      if (typeof id === 'string') ids.add(id);
    }
    return ids;
  }

  private commentInsert(item: Y.Item, place: Place): Verdict {
    const moderator = this.writer.moderatesComments;
    const [thread, comment, field] = place.links as Link[];
    if (!comment) {
      if (!(typeOf(item) instanceof Y.Array)) return moderator ? 'allow' : THREAD_SHAPE;
      return getComments(this.doc).has(thread?.key ?? '') && !moderator ? THREAD_EXISTS : 'allow';
    }
    if (!field) {
      const threadType = thread && !thread.fromUpdate ? typeOf(thread.item) : null;
      if ((threadType && !(threadType instanceof Y.Array)) || !(typeOf(item) instanceof Y.Map)) return moderator ? 'allow' : THREAD_SHAPE;
      const authors = this.childrenOf(item).filter((c) => c.key === 'author');
      const userId = this.writer.userId;
      if (authors.length === 0 || authors.some((a) => !isPlainValue(a.item) || entryValue(a.item) !== userId)) {
        return { code: 'PERMISSION_DENIED', reason: `a new comment's author must be you (${userId})` };
      }
      return 'allow';
    }
    if (comment.fromUpdate) return 'allow'; // judged as a whole when the comment was
    return this.commentField(comment.item, field.key);
  }

  private commentRemoval(place: Place): Verdict {
    const [thread, comment, field] = place.links as Link[];
    if (!comment) return this.memo(thread!.item, () => this.threadRemoval(thread!.item));
    if (!field || this.update.isDeleted(comment.item.id)) return this.memo(comment.item, () => this.commentRemovalOf(comment.item));
    return this.commentField(comment.item, field.key);
  }

  /** Setting or deleting `key` of an existing comment. */
  private commentField(commentItem: Y.Item, key: string | null): Verdict {
    const comment = typeOf(commentItem);
    if (!(comment instanceof Y.Map)) return this.writer.moderatesComments ? 'allow' : THREAD_SHAPE;
    if (key === 'author') return AUTHOR_FIXED;
    if (key === 'resolved') return 'allow';
    return this.writer.moderatesComments || comment.get('author') === this.writer.userId ? 'allow' : NOT_YOURS;
  }

  private commentRemovalOf(commentItem: Y.Item): Verdict {
    if (this.writer.moderatesComments) return 'allow';
    const comment = typeOf(commentItem);
    return comment instanceof Y.Map && comment.get('author') === this.writer.userId ? 'allow' : NOT_YOURS;
  }

  private threadRemoval(threadItem: Y.Item): Verdict {
    if (this.writer.moderatesComments) return 'allow';
    const thread = typeOf(threadItem);
    if (!(thread instanceof Y.Array)) return THREAD_SHAPE;
    for (let item = thread._start; item !== null; item = item.right) {
      if (!item.deleted && this.commentRemovalOf(item) !== 'allow') return { ...NOT_YOURS, reason: "the thread holds other people's comments" };
    }
    return 'allow';
  }

  private memo(item: Y.Item, judge: () => Verdict): Verdict {
    this.removals ??= new Map();
    let verdict = this.removals.get(item);
    if (verdict === undefined) {
      verdict = judge();
      this.removals.set(item, verdict);
    }
    return verdict;
  }
}
