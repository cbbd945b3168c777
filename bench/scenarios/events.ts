/**
 * 2. Event fan-out (job progress): HTTP publish → (Redis) → subscribers.
 *   memory  — 2,000 idle subscribers (1,000 following the 10 main jobs, 1,000 on another job): bytes per subscriber.
 *   fan-out — 1,000 subscribers, 100 per job over 10 jobs; 100 publishes/s round-robin over the jobs (open loop,
 *             2 s warm-up), so 10,000 deliveries/s: latency publish → delivery, delivered fraction, server CPU
 *             (process + Postgres + Redis) per delivery, deliveries per CPU-second. (All 1,000 on one job would be
 *             100,000 deliveries/s: more than one shared core can carry for any target, raw ws included.)
 *   ramp    — 50 → 100 → 200 → 400 publishes/s until p99 > 250 ms or any loss.
 * Ingest (accepted POSTs/s) is its own scenario, paired: ./ingest.ts.
 */
import { createJobs, publisher, subscribe, type Subscriber } from '../lib/event-clients.js';
import { marker } from '../lib/doc-clients.js';
import { cpuWindow, generatorFlags, latencyMetrics, metric, type CpuWindow } from '../lib/measure.js';
import type { GenContext, MemoryUsage, Metric, ScenarioOutput } from '../lib/protocol.js';
import { openLoop, pool, sleep } from '../lib/schedule.js';
import { Latency, type LatencySummary } from '../lib/stats.js';

const MAIN_JOBS = 10;
const MAIN = Array.from({ length: MAIN_JOBS }, (_, i) => `bench-main-${i}`);
const IDLE = 'bench-idle';
/** Jobs with one subscriber each: a publish priced without its fan-out. */
const SINGLE_JOBS = 16;
const js = (m: MemoryUsage) => m.heapUsed + m.external;

interface Window {
  summary: LatencySummary;
  sent: number;
  received: number;
  delivered: number;
  cpu: CpuWindow;
  errors: number;
}

export async function run(ctx: GenContext): Promise<ScenarioOutput> {
  const { target } = ctx;
  // Quick runs are a smoke test: 200 subscribers (20 per job), short windows, one ramp step.
  const subscribers = ctx.quick ? 200 : 1000;
  const idleSubscribers = ctx.quick ? 100 : 1000;
  const warmupMs = ctx.quick ? 600 : 2000;
  const fixedMs = ctx.quick ? 1000 : 3000;
  const singleMs = ctx.quick ? 500 : 2000;
  const stepMs = ctx.quick ? 1000 : 1500;
  const rampRates = ctx.quick ? [] : [50, 200, 400];
  const singleJobs = Array.from({ length: SINGLE_JOBS }, (_, i) => `bench-single-${i}`);
  await createJobs(target, [...MAIN, IDLE, ...singleJobs]);
  const metrics: Record<string, Metric> = {};

  // Memory: idle subscribers.
  await sleep(ctx.quick ? 100 : 300);
  const base = await ctx.memory();
  const main: Subscriber[] = [];
  const idle: Subscriber[] = [];
  const plan = [
    ...Array.from({ length: subscribers }, (_, i) => ({ channel: MAIN[i % MAIN_JOBS]!, user: `s${i}`, list: main })),
    ...Array.from({ length: idleSubscribers }, (_, i) => ({ channel: IDLE, user: `i${i}`, list: idle })),
  ];
  await pool(plan, 100, async (p) => {
    const s = subscribe(target, p.channel, p.user);
    p.list.push(s);
    await s.ready;
  });
  await sleep(ctx.quick ? 300 : 500);
  const mem = await ctx.memory();
  const n = main.length + idle.length;
  metrics[`heap+external per idle subscriber (${n})`] = metric(Math.round((js(mem) - js(base)) / n), 'bytes', 'lower');
  metrics[`RSS per idle subscriber`] = metric(Math.round((mem.rss - base.rss) / n), 'bytes', 'lower');
  ctx.log(
    `${n} subscribers: ${((js(mem) - js(base)) / n / 1024).toFixed(1)} KiB heap+external, ${((mem.rss - base.rss) / n / 1024).toFixed(1)} KiB RSS each`,
  );

  // Deliveries to the main subscribers.
  let latency = new Latency();
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let received = 0;
  let any = 0;
  for (const s of main) {
    s.onEvent = (sentAt, at) => {
      any++;
      if (sentAt < windowStart || sentAt >= windowEnd) return;
      latency.recordMs(at - sentAt);
      received++;
    };
  }
  const pub = publisher(target);
  const perPublish = subscribers / MAIN_JOBS;

  async function measure(rate: number, warmupMs: number, windowMs: number, jobs = MAIN, fanout = perPublish): Promise<Window> {
    let sent = 0;
    const errorsBefore = pub.errors;
    const loop = openLoop(rate, (i) => {
      const now = performance.now();
      if (now >= windowStart && now < windowEnd) sent++;
      pub.publish(jobs[i % jobs.length]!, marker(now), i);
    });
    await sleep(warmupMs);
    latency = new Latency();
    received = 0;
    const a = await ctx.mark(`events-${rate}${fanout === perPublish ? '' : `x${fanout}`}-start`);
    windowStart = performance.now();
    await sleep(windowMs);
    windowEnd = performance.now();
    const b = await ctx.mark(`events-${rate}${fanout === perPublish ? '' : `x${fanout}`}-end`);
    loop.stop();
    let last = -1;
    for (let waited = 0; waited < 3000 && (received !== last || pub.inflight > 0); waited += 150) {
      last = received;
      await sleep(150);
    }
    windowStart = windowEnd = Infinity;
    const expected = sent * fanout;
    return {
      summary: latency.summary(),
      sent,
      received,
      delivered: expected ? received / expected : 0,
      cpu: cpuWindow(a, b),
      errors: pub.errors - errorsBefore,
    };
  }

  // One subscriber per job for 16 jobs: to price a publish alone, below.
  const singleSubs: Subscriber[] = [];
  for (const [i, job] of singleJobs.entries()) {
    const s = subscribe(target, job, `g${i}`);
    singleSubs.push(s);
    await s.ready;
  }
  for (const s of singleSubs) {
    s.onEvent = (sentAt, at) => {
      if (sentAt < windowStart || sentAt >= windowEnd) return;
      latency.recordMs(at - sentAt);
      received++;
    };
  }

  // Fixed load: 100 publishes/s.
  const fixed = await measure(100, warmupMs, fixedMs);
  const flags = generatorFlags(fixed.cpu);
  Object.assign(metrics, latencyMetrics('100/s (×100 subscribers each) latency', fixed.summary, fixed.delivered, flags));
  metrics['server CPU per delivery @ 100/s'] = metric(
    Math.round((fixed.cpu.totalUs / Math.max(1, fixed.received)) * 100) / 100,
    'µs',
    'lower',
    flags,
  );
  metrics['  of which the server process'] = metric(Math.round((fixed.cpu.serverUs / Math.max(1, fixed.received)) * 100) / 100, 'µs', 'lower', flags);
  metrics['deliveries per server CPU-second @ 100/s'] = metric(
    Math.round(fixed.received / Math.max(1e-6, fixed.cpu.totalUs / 1e6)),
    'deliveries',
    'higher',
    flags,
  );
  metrics['server CPU @ 100/s'] = metric(Math.round((fixed.cpu.totalUs / (fixed.cpu.wallMs * 1000)) * 1000) / 10, '% of a core', 'lower', flags);
  ctx.log(`publisher: ${pub.ok} ok, ${pub.errors} errors; ${any} events seen`);
  ctx.log(
    `100/s: p50 ${fixed.summary.p50} p99 ${fixed.summary.p99} ms, delivered ${(fixed.delivered * 100).toFixed(3)} %, ${(fixed.cpu.totalUs / Math.max(1, fixed.received)).toFixed(2)} µs/delivery, server ${(fixed.cpu.serverUtil * 100).toFixed(0)} %, gen ${(fixed.cpu.generatorUtil * 100).toFixed(0)} %, errors ${fixed.errors}`,
  );

  // The same 100 publishes/s to jobs with one subscriber each: what a publish costs without its fan-out. The
  // difference is the marginal cost of a delivery (encode once, write to each socket).
  const single = await measure(100, 500, singleMs, singleJobs, 1);
  const marginal = (fixed.cpu.totalUs - single.cpu.totalUs * (fixed.cpu.wallMs / single.cpu.wallMs)) / Math.max(1, fixed.received - single.received);
  const marginalServer =
    (fixed.cpu.serverUs - single.cpu.serverUs * (fixed.cpu.wallMs / single.cpu.wallMs)) / Math.max(1, fixed.received - single.received);
  metrics['server CPU per publish alone (1 subscriber) @ 100/s'] = metric(
    Math.round(single.cpu.totalUs / Math.max(1, single.sent)),
    'µs',
    'lower',
    generatorFlags(single.cpu),
  );
  metrics['marginal server CPU per delivery (fan-out only)'] = metric(Math.round(marginal * 100) / 100, 'µs', 'lower', [
    ...flags,
    ...generatorFlags(single.cpu),
  ]);
  metrics['  of which the server process '] = metric(Math.round(marginalServer * 100) / 100, 'µs', 'lower', [
    ...flags,
    ...generatorFlags(single.cpu),
  ]);
  ctx.log(
    `publish alone: ${(single.cpu.totalUs / Math.max(1, single.sent)).toFixed(0)} µs (process ${(single.cpu.serverUs / Math.max(1, single.sent)).toFixed(0)}, ` +
      `Postgres ${(single.cpu.postgresUs / Math.max(1, single.sent)).toFixed(0)}, Redis ${(single.cpu.redisUs / Math.max(1, single.sent)).toFixed(0)}); marginal per delivery ${marginal.toFixed(2)} µs (server process ${marginalServer.toFixed(2)})`,
  );

  // Ramp (the 100/s step is the fixed-load window above).
  const steps: unknown[] = [];
  let maxRate = 0;
  let rampFlags: string[] = [];
  const fixedPass = fixed.summary.p99 <= 250 && fixed.delivered >= 1 && fixed.errors === 0;
  for (const rate of rampRates) {
    if (rate > 100 && !fixedPass) break;
    if (rate > 100 && maxRate < 100) maxRate = 100;
    const w = await measure(rate, ctx.quick ? 300 : 500, stepMs);
    const pass = w.summary.p99 <= 250 && w.delivered >= 1 && w.errors === 0;
    steps.push({ rate, pass, ...w });
    rampFlags = [...rampFlags, ...generatorFlags(w.cpu)];
    ctx.log(
      `ramp ${rate}/s: p99 ${w.summary.p99} ms, delivered ${(w.delivered * 100).toFixed(3)} %, server ${(w.cpu.serverUtil * 100).toFixed(0)} %, gen ${(w.cpu.generatorUtil * 100).toFixed(0)} %${pass ? '' : ' ✗'}`,
    );
    if (!pass) break;
    maxRate = rate;
  }
  if (fixedPass && maxRate < 100 && rampRates.every((r) => r <= 100)) maxRate = 100;
  if (rampRates.length)
    metrics['ramp: max publishes/s (p99 ≤ 250 ms, no loss; 400 = all passed)'] = metric(
      maxRate,
      'publishes/s',
      'higher',
      rampFlags.length ? ['generator-bound at some step'] : [],
    );

  const notes: string[] = [];
  for (const s of [...main, ...idle, ...singleSubs]) s.close();
  return {
    metrics,
    notes,
    details: {
      memory: { base, mem, subscribers: n },
      fixed,
      single,
      marginalUs: marginal,
      steps,
    },
  };
}
