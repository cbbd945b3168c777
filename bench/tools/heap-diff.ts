/**
 * `npx tsx bench/tools/heap-diff.ts before.heapsnapshot after.heapsnapshot [divisor]`: what grew between two heap
 * snapshots, by constructor (count and self size), optionally divided by the number of connections added.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

function tally(file: string): Map<string, { count: number; size: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const stride = fields.length;
  const typeIdx = fields.indexOf('type');
  const nameIdx = fields.indexOf('name');
  const sizeIdx = fields.indexOf('self_size');
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < s.nodes.length; i += stride) {
    const type = types[s.nodes[i + typeIdx]!]!;
    const name = type === 'object' || type === 'closure' || type === 'native' ? s.strings[s.nodes[i + nameIdx]!]! : `(${type})`;
    const key = type === 'closure' ? `closure ${name}` : name;
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += s.nodes[i + sizeIdx]!;
    out.set(key, e);
  }
  return out;
}

const [a, b, divArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: heap-diff <before> <after> [divisor]');
const div = Number(divArg ?? 1);
const before = tally(a);
const after = tally(b);
const rows: [string, number, number][] = [];
for (const [k, v] of after) {
  const p = before.get(k) ?? { count: 0, size: 0 };
  rows.push([k, (v.count - p.count) / div, (v.size - p.size) / div]);
}
rows.sort((x, y) => y[2] - x[2]);
let total = 0;
for (const r of rows) total += r[2];
console.log(`total self size growth: ${total.toFixed(0)} bytes${div > 1 ? ` per unit (÷${div})` : ''}`);
for (const [k, c, sz] of rows.slice(0, 45)) console.log(`${sz.toFixed(0).padStart(8)} B  ${c.toFixed(2).padStart(7)} ×  ${k.slice(0, 100)}`);
