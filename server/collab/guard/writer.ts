/**
 * Who is writing, as the guard needs it: the user (comment authorship), what the role allows (access policy), and
 * the slides locked by other users, as the slides' own Y.Maps (a lock names the struct id of its slide's map, so a
 * decoy slide carrying the same `id` field is a different slide).
 */
import * as Y from 'yjs';
import { getSlides } from '../../../shared/presentation.js';
import { can, isCommentOnly, type Role } from '../../access/policy.js';
import type { StoredLock } from '../locks/lock-store.js';

export interface LockedSlide {
  slideId: string;
  holder: string;
}

export interface Writer {
  userId: string;
  /** May not write at all (a viewer): Hocuspocus refuses its updates already; the guard does too. */
  readOnly: boolean;
  /** Writes only under `comments` (a commenter). */
  commentOnly: boolean;
  /** May rewrite and delete other people's comments. */
  moderatesComments: boolean;
  /** Slides locked by other users: the slide's Y.Map → the lock. */
  locked: ReadonlyMap<Y.AbstractType<unknown>, LockedSlide>;
  /** Client ids the update writes under that are not this user's: other users', or nobody's (../client-owners.ts). */
  foreignClients: ReadonlySet<number>;
  /** Of those, the new ones the user may not claim now (its cap of new client ids in the document). */
  overCapClients: ReadonlySet<number>;
}

/** A connection is restricted when something it may send would be refused: a commenter, or locks held by others. */
export function isRestricted(writer: Writer): boolean {
  return writer.readOnly || writer.commentOnly || writer.locked.size > 0;
}

const NO_CLIENTS: ReadonlySet<number> = new Set();
const NO_LOCKS: Map<Y.AbstractType<unknown>, LockedSlide> = new Map();

export function writerFor(
  userId: string,
  role: Role,
  locks: readonly StoredLock[],
  doc: Y.Doc,
  clients: { notOwned: ReadonlySet<number>; overCap: ReadonlySet<number> } = { notOwned: NO_CLIENTS, overCap: NO_CLIENTS },
): Writer {
  const locked = locks.length === 0 ? NO_LOCKS : new Map<Y.AbstractType<unknown>, LockedSlide>();
  for (const lock of locks) {
    if (lock.userId === userId) continue;
    for (const slide of slidesOf(doc, lock)) locked.set(slide, { slideId: lock.slideId, holder: lock.name });
  }
  return {
    userId,
    readOnly: !can(role, 'comment'),
    commentOnly: isCommentOnly(role),
    moderatesComments: can(role, 'moderate_comments'),
    locked,
    foreignClients: clients.notOwned,
    overCapClients: clients.overCap,
  };
}

/** The slide a lock is on: the Y.Map whose struct id the lock names (legacy locks without one: every slide with its id). */
function slidesOf(doc: Y.Doc, lock: StoredLock): Y.AbstractType<unknown>[] {
  const ref = lock.slideRef;
  if (ref) {
    if (ref.clock >= Y.getState(doc.store, ref.client)) return [];
    const item = Y.getItem(doc.store, Y.createID(ref.client, ref.clock)) as Y.Item | Y.GC;
    return item instanceof Y.Item && item.content instanceof Y.ContentType ? [item.content.type as Y.AbstractType<unknown>] : [];
  }
  return getSlides(doc)
    .toArray()
    .filter((slide) => slide.get('id') === lock.slideId) as unknown as Y.AbstractType<unknown>[];
}
