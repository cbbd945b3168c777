/**
 * Applying a restore to the live document: one server transaction made of the patch of ./document-patch.ts, refused
 * whole (nothing applied) when it would touch a slide another user holds locked.
 *
 * The transaction's origin is a Hocuspocus local origin with `skipStoreHooks`: Hocuspocus broadcasts the update to
 * this instance's connections and the Redis extension publishes it to the others, while the persistence extension
 * leaves it alone (as it does for loads), because the restore appends it itself and awaits that append: the change
 * is durable before the caller answers, and a failed append is reported instead of logged and forgotten.
 */
import type { Document } from '@hocuspocus/server';
import * as Y from 'yjs';
import { applyPatch, planPatch } from './document-patch.js';
import { DomainError } from '../errors.js';

export interface SlideLockInfo {
  slideId: string;
  userId: string;
  name: string;
  expiresAt: number;
}

/** Slide id → holder name, for the unexpired locks held by anyone but `userId`. */
export function lockedByOthers(locks: readonly SlideLockInfo[], userId: string, now = Date.now()): Map<string, string> {
  return new Map(locks.filter((l) => l.userId !== userId && l.expiresAt > now).map((l) => [l.slideId, l.name]));
}

/** Throws LOCKED when making `live` equal `target` would change a slide in `locked`; changes nothing. */
export function refuseIfLocked(live: Y.Doc, target: Y.Doc, locked: ReadonlyMap<string, string>): void {
  if (locked.size === 0) return;
  const touched = [...planPatch(live, target, { keepInPlace: new Set(locked.keys()) }).touchedSlides].filter((id) => locked.has(id));
  if (touched.length === 0) return;
  const holders = touched.map((slideId) => ({ slide_id: slideId, name: locked.get(slideId) as string }));
  throw new DomainError(
    'LOCKED',
    `the restore would change slide ${touched.join(', ')}, locked by ${[...new Set(holders.map((h) => h.name))].join(', ')}`,
    { slide_ids: touched, holders },
  );
}

/**
 * Makes the live document equal `target` in one transaction and returns its update (null when they were already
 * equal). Synchronous from the lock check to the change, so no edit slips in between.
 */
export function applyRestore(live: Document, target: Y.Doc, locked: ReadonlyMap<string, string>, context: unknown): Uint8Array | null {
  refuseIfLocked(live, target, locked);
  const origin = { source: 'local' as const, skipStoreHooks: true, context };
  const updates: Uint8Array[] = [];
  const capture = (update: Uint8Array, from: unknown) => {
    if (from === origin) updates.push(update);
  };
  let failure: unknown;
  live.on('update', capture);
  try {
    live.transact(() => applyPatch(live, target, { keepInPlace: new Set(locked.keys()) }), origin);
  } catch (err) {
    failure = err;
  } finally {
    live.off('update', capture);
  }
  const update = updates.length === 0 ? null : updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates);
  // A throw inside a Yjs transaction does not undo what it already changed, and that part was broadcast: the
  // caller must still store it (replicas hold it) before reporting the failure.
  if (failure !== undefined) throw new PartialRestoreError(update, failure);
  return update;
}

export class PartialRestoreError extends Error {
  constructor(
    readonly update: Uint8Array | null,
    cause: unknown,
  ) {
    super('the restore failed part way', { cause });
    this.name = 'PartialRestoreError';
  }
}
