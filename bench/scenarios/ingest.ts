/**
 * 2c. Progress ingest, paired: every target is up at once, and their ingest windows alternate.
 *
 * Why paired: this VM's speed moves in phases of seconds to minutes (a memory-bound loop on an idle core took 40 to
 * 143 ms; docs/performance.md, "Reading a ratio"). Measured one after another, minutes apart, two targets can meet
 * different machines: 13 runs of the same code read 0.60–1.48×. Here each round measures every target within a few
 * seconds, in an order that reverses every round (A B, B A, A B, … ; with three targets A B C, C B A, …), so a drift
 * within a round falls on both sides alike. During a target's window the runner stops the other targets (SIGSTOP, then
 * SIGCONT at its end), so their idle work (timers, heartbeats, slot refreshes) is not charged to the one measured.
 *
 * Per target: the jobs (Deckhand: created and `processing`), 2,000 idle subscribers on a job of their own, and one
 * subscriber on each of 16 ingest jobs. Each window is autocannon, 16 connections, POSTing progress round-robin over
 * the 16 jobs. A 3 s warm-up per target (discarded), then ROUNDS rounds of one 2 s window per target. Reported per
 * target: the median window; `details.rounds` keeps every window in round order, and the goal (bench/lib/goals.ts)
 * takes the median of the per-round ratios. Every accepted POST must reach its job's subscriber.
 */
import { createJobs, publisher, subscribe, type Subscriber } from '../lib/event-clients.js';
import { postRoundRobin, type IngestRequest, type IngestResult } from '../lib/ingest-load.js';
import { cpuWindow, generatorFlags, metric, type CpuWindow } from '../lib/measure.js';
import type { GenContext, Metric, PairedRun, ScenarioOutput } from '../lib/protocol.js';
import { pool, sleep } from '../lib/schedule.js';
import { median } from '../lib/stats.js';

const INGEST_JOBS = 16;
const IDLE = 'bench-ingest-idle';
const ROUNDS = 7;
/**
 * Warm-up per target, discarded. Deckhand's route reaches its steady speed only after ~2 s of load (its first
 * window after a 1 s warm-up read 2,017 POSTs/s, the next nine 2,896–3,839): a measure of its JIT warm-up, not of
 * its cost per POST. Every target gets the same warm-up.
 */
const WARMUP_S = 3;

interface Window {
  round: number;
  result: IngestResult;
  cpu: CpuWindow;
}

interface Side {
  ctx: GenContext;
  requests: IngestRequest[];
  subscribers: Subscriber[];
  delivered: number;
  accepted: number;
  windows: Window[];
}

async function prepare(ctx: GenContext, idleSubscribers: number): Promise<Side> {
  const { target } = ctx;
  const jobs = Array.from({ length: INGEST_JOBS }, (_, i) => `bench-ingest-${i}`);
  await createJobs(target, [IDLE, ...jobs]);
  const side: Side = { ctx, requests: [], subscribers: [], delivered: 0, accepted: 0, windows: [] };
  await pool(
    Array.from({ length: idleSubscribers }, (_, i) => i),
    100,
    async (i) => {
      const s = subscribe(target, IDLE, `i${i}`);
      side.subscribers.push(s);
      await s.ready;
    },
  );
  for (const [i, job] of jobs.entries()) {
    const s = subscribe(target, job, `g${i}`);
    s.onEvent = () => side.delivered++;
    side.subscribers.push(s);
    await s.ready;
  }
  const pub = publisher(target);
  side.requests = jobs.map((job) => pub.ingestRequest(job));
  return side;
}

async function window(side: Side, seconds: number, name: string): Promise<{ result: IngestResult; cpu: CpuWindow }> {
  const { ctx } = side;
  const a = await ctx.mark(`${name}-start`);
  const result = await postRoundRobin(ctx.target.http, side.requests, { connections: INGEST_JOBS, seconds });
  const b = await ctx.mark(`${name}-end`);
  side.accepted += result['2xx'];
  return { result, cpu: cpuWindow(a, b) };
}

function report(side: Side): ScenarioOutput {
  const windows = side.windows;
  const median = [...windows].sort((x, y) => x.result.requests.average - y.result.requests.average)[windows.length >> 1]!;
  const { result, cpu } = median;
  const flags = generatorFlags(cpu);
  const perPost = (us: number) => Math.round(us / Math.max(1, result.requests.total));
  const metrics: Record<string, Metric> = {
    'ingest: accepted POSTs/s (16 connections)': metric(Math.round(result.requests.average), 'req/s', 'higher', flags),
    'ingest: latency p50': metric(result.latency.p50, 'ms', 'lower', flags),
    'ingest: latency p99': metric(result.latency.p99, 'ms', 'lower', flags),
    'ingest: server CPU per POST': metric(perPost(cpu.totalUs), 'µs', 'lower', flags),
    '  of which the server process': metric(perPost(cpu.serverUs), 'µs', 'lower', flags),
  };
  const notes: string[] = [];
  const failed = windows.reduce((n, w) => n + w.result.non2xx + w.result.errors, 0);
  if (failed) notes.push(`ingest: ${failed} non-2xx answers or errors`);
  if (side.delivered < side.accepted) notes.push(`ingest: ${side.accepted - side.delivered} of ${side.accepted} accepted POSTs not delivered`);
  side.ctx.log(
    `windows by round: ${windows.map((w) => Math.round(w.result.requests.average)).join(', ')} req/s; median ${Math.round(result.requests.average)} req/s, ` +
      `p99 ${result.latency.p99} ms, per POST: process ${perPost(cpu.serverUs)}, Postgres ${perPost(cpu.postgresUs)}, Redis ${perPost(cpu.redisUs)} µs; ` +
      `accepted ${side.accepted}, delivered ${side.delivered}`,
  );
  return {
    metrics,
    notes,
    details: {
      rounds: windows.map((w) => ({
        round: w.round,
        postsPerS: w.result.requests.average,
        cpuPerPostUs: w.cpu.totalUs / Math.max(1, w.result.requests.total),
      })),
      accepted: side.accepted,
      delivered: side.delivered,
      median: { requests: result.requests, latency: result.latency, cpu },
    },
  };
}

export const runPaired: PairedRun = async (ctxs) => {
  const quick = ctxs[0]!.quick;
  const rounds = quick ? 1 : ROUNDS;
  const seconds = quick ? 1 : 2;
  const sides: Side[] = [];
  for (const ctx of ctxs) sides.push(await prepare(ctx, quick ? 200 : 2000));
  await sleep(500);
  // Warm-up (discarded): the route's first requests, the JIT, the connections.
  for (const side of sides) await window(side, quick ? 0.5 : WARMUP_S, 'ingest-w0');
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) side.windows.push({ round, ...(await window(side, seconds, `ingest-r${round + 1}`)) });
  }
  // Every accepted POST reaches its job's subscriber: wait until the counts stop moving.
  for (let waited = 0, last = -1; waited < 3000; waited += 100) {
    const now = sides.reduce((n, s) => n + s.delivered, 0);
    if (now === last && sides.every((s) => s.delivered >= s.accepted)) break;
    last = now;
    await sleep(100);
  }
  // Per-round ratios of the first target to each other one (the goal's for the main pair: bench/lib/goals.ts).
  const [first, ...others] = sides;
  for (const other of others) {
    const ratios = first!.windows
      .map((w, i) => w.result.requests.average / Math.max(1, other.windows[i]!.result.requests.average))
      .sort((x, y) => x - y);
    first!.ctx.log(`/ ${other.ctx.target.id} by round: ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}×`);
  }
  const outputs: Record<string, ScenarioOutput> = {};
  for (const side of sides) {
    outputs[side.ctx.target.id] = report(side);
    for (const s of side.subscribers) s.close();
  }
  return outputs;
};
