/**
 * `npx tsx bench/tools/machine-speed.ts [seconds]`: how fast this machine is right now, on the server's CPU (0), for
 * two fixed workloads run over and over:
 * - compute: an integer loop that stays in registers;
 * - memory: random reads over 128 MiB of typed array and 200,000 small objects (cache and memory bound, like a
 *   server's request path).
 * Prints the time of each repetition, then min / median / max. On the 2-core VM of 2026-11-30 the compute loop held
 * within a few % while the memory loop moved between ~45 and ~145 ms on an otherwise idle machine, in phases of
 * seconds to minutes: run this before and after a bench run to see whether targets measured minutes apart met the
 * same machine (docs/performance.md, "Reading a ratio").
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const seconds = Number(process.argv[2] ?? 20);

if (process.env.MACHINE_SPEED_CHILD !== '1') {
  // Pinned to CPU 0, as `npm run bench` pins the server under test.
  const run = spawnSync('taskset', ['-c', '0', process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), String(seconds)], {
    env: { ...process.env, MACHINE_SPEED_CHILD: '1' },
    stdio: 'inherit',
  });
  process.exit(run.status ?? 1);
}

const memory = new Int32Array(32 * 1024 * 1024);
const objects = Array.from({ length: 200_000 }, (_, i) => ({ i, text: `x${i}`, list: [i] }));

function memoryLoop(): number {
  let x = 1;
  let sum = 0;
  for (let i = 0; i < 2e6; i++) {
    x = (x * 1103515245 + 12345) & 0x1ffffff;
    sum += memory[x]! + objects[x % 200_000]!.list[0]!;
  }
  return sum;
}

function computeLoop(): number {
  let x = 0;
  for (let i = 0; i < 2e7; i++) x = (x * 31 + i) | 0;
  return x;
}

function timed(f: () => number): number {
  const started = performance.now();
  f();
  return performance.now() - started;
}

const summary = (name: string, ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(0);
  console.log(`${name}: min ${at(0)} / median ${at(0.5)} / max ${at(1)} ms over ${ms.length} repetitions`);
  console.log(`  ${ms.map((v) => v.toFixed(0)).join(' ')}`);
};

// Warm-up (JIT, page faults), not counted.
for (let i = 0; i < 3; i++) {
  memoryLoop();
  computeLoop();
}
const mem: number[] = [];
const cpu: number[] = [];
const end = performance.now() + seconds * 1000;
while (performance.now() < end) {
  mem.push(timed(memoryLoop));
  cpu.push(timed(computeLoop));
  await new Promise((resolve) => setTimeout(resolve, 100));
}
summary('compute', cpu);
summary('memory', mem);
