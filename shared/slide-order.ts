/**
 * Slide order (design §12: safe under concurrency). Each slide map carries an `order` key, a fractional index string
 * (the `fractional-indexing` library: keys compare as plain strings, and a key between any two others always
 * exists). The slide order is the slides sorted by (order, id); the position of a slide in the `slides` Y.Array means
 * nothing. A move sets one key of one map (last writer wins), so two concurrent moves of a slide leave it once, at one
 * of the two places, and never duplicate or lose it.
 *
 * A slide whose `order` is missing or not a valid key (a document from before order keys, a client of an older SDK
 * that inserts into the array) gets a *derived* key, computed from the array alone and deterministically: a run of
 * such slides goes right after the slide before it in the array, in array order, before the next keyed slide in
 * the order. Two replicas with the same state derive the same keys, so the server can write them (migration on load)
 * and two instances doing so at once write the same values.
 */
import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing';

/** Longest accepted order key: repeated inserts at one place make keys grow by about one character per six. */
export const MAX_ORDER_KEY_LENGTH = 256;

const validity = new Map<string, boolean>();
/** The library's default alphabet: a head letter (the integer part's length), then base-62 digits. */
const KEY_CHARACTERS = /^[A-Za-z][0-9A-Za-z]+$/;

/** Whether `value` is an order key this schema accepts (a valid fractional index, at most MAX_ORDER_KEY_LENGTH long). */
export function isOrderKey(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > MAX_ORDER_KEY_LENGTH || !KEY_CHARACTERS.test(value)) return false;
  let valid = validity.get(value);
  if (valid === undefined) {
    try {
      generateKeyBetween(value, null);
      valid = true;
    } catch {
      valid = false;
    }
    if (validity.size > 10_000) validity.clear();
    validity.set(value, valid);
  }
  return valid;
}

/** Compares two entries by (order, id): the slide order. */
export function compareOrder(a: { order: string; id: string }, b: { order: string; id: string }): number {
  if (a.order !== b.order) return a.order < b.order ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The smallest key in `sorted` (ascending, distinct) strictly greater than `key` (or than nothing, when null). */
function nextKeyAfter(sorted: string[], key: string | null): string | null {
  if (key === null) return sorted[0] ?? null;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) <= key) lo = mid + 1;
    else hi = mid;
  }
  return sorted[lo] ?? null;
}

/**
 * The effective order key of every entry, in array order: its own key when valid, else the derived one (see the
 * module comment). `derived[i]` tells which were derived (what a migration writes).
 */
export function effectiveOrderKeys(ownKeys: readonly unknown[]): { keys: string[]; derived: boolean[] } {
  const valid = ownKeys.map(isOrderKey);
  const sorted = [...new Set(ownKeys.filter((_, i) => valid[i]) as string[])].sort();
  const keys: string[] = new Array(ownKeys.length);
  const derived: boolean[] = valid.map((v) => !v);
  let previous: string | null = null;
  for (let i = 0; i < ownKeys.length; ) {
    if (valid[i]) {
      previous = ownKeys[i] as string;
      keys[i] = previous;
      i++;
      continue;
    }
    let end = i;
    while (end < ownKeys.length && !valid[end]) end++;
    const run = generateNKeysBetween(previous, nextKeyAfter(sorted, previous), end - i);
    for (let j = i; j < end; j++) keys[j] = run[j - i] as string;
    previous = keys[end - 1] as string;
    i = end;
  }
  return { keys, derived };
}

/**
 * A key that puts an entry at `index` of `ordered` (the other entries, in order: the moving entry left out). Among
 * the keys between the two neighbours one is picked at random, so two replicas inserting at the same place at once
 * rarely pick the same key (a tie is still ordered, by id). Neighbours with the same key cannot be separated: the
 * key then goes right after them, so the entry may land a little later than `index`.
 */
export function orderKeyAt(ordered: readonly { order: string }[], index: number, random: () => number = Math.random): string {
  const at = Math.max(0, Math.min(index, ordered.length));
  let before: string | null = at > 0 ? (ordered[at - 1] as { order: string }).order : null;
  let after: string | null = null;
  for (let i = at; i < ordered.length; i++) {
    const key = (ordered[i] as { order: string }).order;
    if (before === null || key > before) {
      after = key;
      break;
    }
  }
  if (before !== null && after !== null && before >= after) before = null;
  const candidates = generateNKeysBetween(before, after, 4);
  return candidates[Math.floor(random() * candidates.length)] as string;
}

/** A slide-list edit that turns one order of ids into another (what a JSON client applies to its copy). */
export type OrderStep = { kind: 'delete'; id: string } | { kind: 'add'; id: string; index: number } | { kind: 'move'; id: string; index: number };

/**
 * The steps that turn `from` into `to` (lists of distinct ids): deletions first, then additions and moves, each
 * `index` the position in the list as it is when that step is applied (a move takes the id out, then inserts it
 * there). The ids whose relative order is kept (a longest increasing subsequence) do not move, so one slide dragged
 * elsewhere is one step.
 */
export function orderSteps(from: readonly string[], to: readonly string[]): OrderStep[] {
  const steps: OrderStep[] = [];
  const target = new Set(to);
  const current = from.filter((id) => {
    if (target.has(id)) return true;
    steps.push({ kind: 'delete', id });
    return false;
  });
  const targetIndex = new Map(to.map((id, i) => [id, i]));
  const stays = longestIncreasing(current.map((id) => targetIndex.get(id) as number));
  const fixed = new Set(stays.map((i) => current[i] as string));
  const present = new Set(current);
  for (let t = 0; t < to.length; t++) {
    const id = to[t] as string;
    if (fixed.has(id)) continue;
    const at = current.indexOf(id);
    if (at >= 0) current.splice(at, 1);
    const index = t === 0 ? 0 : current.indexOf(to[t - 1] as string) + 1;
    current.splice(index, 0, id);
    steps.push(present.has(id) ? { kind: 'move', id, index } : { kind: 'add', id, index });
  }
  return steps;
}

/** Positions (in `values`) of one longest strictly increasing subsequence. */
function longestIncreasing(values: readonly number[]): number[] {
  const tails: number[] = [];
  const previous: number[] = new Array(values.length).fill(-1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((values[tails[mid] as number] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) previous[i] = tails[lo - 1] as number;
    tails[lo] = i;
  }
  const result: number[] = [];
  for (let i = tails.length > 0 ? (tails[tails.length - 1] as number) : -1; i >= 0; i = previous[i] as number) result.push(i);
  return result.reverse();
}
