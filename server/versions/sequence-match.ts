/**
 * Matching two versions of a sequence (slides, comment threads, XML children): which items of the live sequence
 * stay where they are. Items are paired by key (a map's `id`, else the item's content; the n-th occurrence of a key
 * pairs with the n-th); among the pairs, the heaviest set whose order agrees in both sequences stays. Every other
 * live item is deleted and every other target item inserted (a moved slide is one of each).
 */
import { matchKey } from './values.js';

/** Pairs [liveIndex, targetIndex], increasing in both. */
export type Anchor = readonly [number, number];

function occurrenceKeys(items: readonly unknown[]): string[] {
  const seen = new Map<string, number>();
  return items.map((item) => {
    const key = matchKey(item);
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    return `${n}#${key}`;
  });
}

/** `weight(liveItem)`: how much keeping that item in place is worth (default 1). */
export function anchorsOf(live: readonly unknown[], target: readonly unknown[], weight: (item: unknown) => number = () => 1): Anchor[] {
  const targetIndex = new Map<string, number>();
  occurrenceKeys(target).forEach((key, i) => targetIndex.set(key, i));
  const pairs: { live: number; target: number; weight: number }[] = [];
  occurrenceKeys(live).forEach((key, i) => {
    const t = targetIndex.get(key);
    if (t !== undefined) pairs.push({ live: i, target: t, weight: weight(live[i]) });
  });
  return heaviestIncreasing(pairs, target.length).map((p) => [p.live, p.target] as const);
}

/**
 * The subsequence of `pairs` (ordered by live index) with increasing target indexes and the largest total weight:
 * a Fenwick tree over target indexes answers "best chain ending below t" in O(log n), so O(n log n) overall.
 */
function heaviestIncreasing<P extends { target: number; weight: number }>(pairs: readonly P[], size: number): P[] {
  const bestWeight = new Float64Array(size + 1);
  const bestPair = new Int32Array(size + 1).fill(-1);
  const parent = new Int32Array(pairs.length).fill(-1);
  const total = new Float64Array(pairs.length);
  let end = -1;
  pairs.forEach((pair, p) => {
    let w = 0;
    let from = -1;
    for (let i = pair.target; i > 0; i -= i & -i) {
      if (bestWeight[i]! > w) {
        w = bestWeight[i]!;
        from = bestPair[i]!;
      }
    }
    total[p] = w + pair.weight;
    parent[p] = from;
    for (let i = pair.target + 1; i <= size; i += i & -i) {
      if (total[p]! > bestWeight[i]!) {
        bestWeight[i] = total[p]!;
        bestPair[i] = p;
      }
    }
    if (end < 0 || total[p]! > total[end]!) end = p;
  });
  const chain: P[] = [];
  for (let p = end; p >= 0; p = parent[p]!) chain.push(pairs[p]!);
  return chain.reverse();
}
