/**
 * `npx tsx bench/tools/alloc-summary.ts <file.heapprofile> [requests]`: what a sampling allocation profile
 * (bench/targets/runtime.ts `alloc-start`/`alloc-stop`) says was allocated, by area (package or file) and by
 * function, self bytes; with `requests`, per request too.
 */
import { readFileSync } from 'node:fs';

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const [file, requestsArg] = process.argv.slice(2);
if (!file) throw new Error('usage: alloc-summary <file.heapprofile> [requests]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: Node };
const requests = Number(requestsArg ?? 0);

function area(url: string): string {
  if (!url) return '(native/vm)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url;
  const own = /\/((?:server|shared|bench)\/.*)$/.exec(url);
  return own ? own[1]! : url;
}

const byArea = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
const walk = (node: Node) => {
  const f = node.callFrame;
  if (node.selfSize) {
    total += node.selfSize;
    const a = area(f.url);
    byArea.set(a, (byArea.get(a) ?? 0) + node.selfSize);
    const key = `${f.functionName || '(anonymous)'} ${a}:${f.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
  }
  for (const c of node.children) walk(c);
};
walk(profile.head);
const show = (title: string, map: Map<string, number>, n: number) => {
  console.log(`\n-- ${title} --`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    const per = requests ? ` ${(v / requests).toFixed(0).padStart(7)} B/request` : '';
    console.log(`${((v / total) * 100).toFixed(1).padStart(5)} % ${(v / 1024).toFixed(0).padStart(9)} KiB${per}  ${k}`);
  }
};
console.log(`sampled ${(total / 1048576).toFixed(1)} MiB${requests ? `, ${(total / requests).toFixed(0)} B per request (${requests})` : ''}`);
show('self bytes by area', byArea, 25);
show('self bytes by function', byFunction, 40);
