/**
 * 1b. Max sustainable update rate on one document: 10 writers + 40 readers (lean protocol clients), open loop,
 * doubling the total rate from 200 updates/s until a step fails, then bisecting between the highest rate that passed
 * and the lowest that failed until they are within 1/16 (../lib/rate-ladder.ts). A step passes while p99 ≤ 100 ms and
 * ≥ 99.9 % of the updates reach every reader; a failing step is measured once more (a pause of the shared machine
 * fails a step as surely as saturation does, and saturation fails it twice), and only a step that failed twice
 * counts as failed. Before the next step, an overloaded server's backlog drains (or the clients reconnect: see the
 * loop), so a step never measures what the one before it left behind. Server CPU (process + Postgres + Redis) per applied update and per update delivered to a reader,
 * at every step.
 */
import { leanClient, marker, scanTimestamps, type DocClient } from '../lib/doc-clients.js';
import { presentationsWithEditors } from '../lib/deckhand-setup.js';
import { cpuWindow, docEndpoint, generatorFlags, metric } from '../lib/measure.js';
import type { GenContext, Metric, ScenarioOutput } from '../lib/protocol.js';
import { RateLadder } from '../lib/rate-ladder.js';
import { openLoop, sleep } from '../lib/schedule.js';
import { Latency } from '../lib/stats.js';

const WRITERS = 10;
const READERS = 40;
const FIRST_RATE = 200;
const RATE_CEILING = 25_600;
/** The ladder stops bisecting when the rates that passed and failed are this close (relative). */
const RESOLUTION = 1 / 16;
/** CPU per update is compared at this rate (every target reaches it). */
export const COMPARE_RATE = 800;
const P99_LIMIT_MS = 100;
const DELIVERY_FLOOR = 0.999;
/** How long the next step waits for an overloaded server's backlog to drain before it reconnects instead. */
const DRAIN_LIMIT_MS = 20_000;

export async function run(ctx: GenContext): Promise<ScenarioOutput> {
  const warmupMs = ctx.quick ? 600 : 2000;
  const settleMs = ctx.quick ? 300 : 500;
  const measureMs = ctx.quick ? 1200 : 2500;
  const ladder = ctx.quick ? new RateLadder(COMPARE_RATE, COMPARE_RATE) : new RateLadder(FIRST_RATE, RATE_CEILING, RESOLUTION);
  const ep = docEndpoint(ctx);
  const id = 'rate';
  const users = Array.from({ length: WRITERS + READERS }, (_, i) => `r${i}`);
  if (ep.needsMembers) await presentationsWithEditors(ctx.target, [{ id, owner: users[0]!, editors: users.slice(1) }]);
  const docName = ep.docName(id);
  let writers: DocClient[] = [];
  let readers: DocClient[] = [];
  let latency = new Latency();
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let received = 0;
  /** Update frames readers received in the window: how many updates each broadcast frame carried. */
  let frames = 0;
  /** Updates sent by the current writers, and delivered to the current readers (each counts once per reader). */
  let sentTotal = 0;
  let deliveredTotal = 0;
  /** (Re)connects every client: a server may close the ones it cannot keep up with at an overloading rate. */
  const connect = async (round: number) => {
    for (const c of [...writers, ...readers]) c.close();
    writers = [];
    readers = [];
    sentTotal = 0;
    deliveredTotal = 0;
    for (const [i, user] of users.entries()) {
      const writer = i < WRITERS;
      const client = leanClient({ protocol: ep.protocol, url: ep.url, docName, token: ep.token(user), writer, writerId: `w-${user}-${round}` });
      (writer ? writers : readers).push(client);
      if (i === 0) await client.synced; // the owner opens the document first
    }
    await Promise.all([...writers, ...readers].map((c) => c.synced));
    for (const reader of readers) {
      reader.onUpdate = (update, at) => {
        if (at >= windowStart && at < windowEnd) frames++;
        scanTimestamps(update, (sentAt) => {
          deliveredTotal++;
          if (sentAt < windowStart || sentAt >= windowEnd) return;
          latency.recordMs(at - sentAt);
          received++;
        });
      };
    }
  };
  let connections = 0;
  await connect(connections++);

  const steps: Record<string, unknown>[] = [];
  const metrics: Record<string, Metric> = {};
  let firstStep = true;
  let retried = false;
  for (let rate = ladder.next; rate !== undefined; rate = ladder.next) {
    let sentInWindow = 0;
    const loop = openLoop(rate, (i) => {
      const now = performance.now();
      if (now >= windowStart && now < windowEnd) sentInWindow++;
      sentTotal++;
      writers[i % WRITERS]!.type(marker(now));
    });
    await sleep(firstStep ? warmupMs : settleMs);
    firstStep = false;
    latency = new Latency();
    received = 0;
    frames = 0;
    const a = await ctx.mark(`rate-${rate}-start`);
    windowStart = performance.now();
    await sleep(measureMs);
    windowEnd = performance.now();
    const b = await ctx.mark(`rate-${rate}-end`);
    loop.stop();
    // In-window updates may still be on their way: wait until they stop arriving (at most 2 s).
    let last = -1;
    for (let waited = 0; waited < 1500 && received !== last; waited += 150) {
      last = received;
      await sleep(150);
    }
    windowStart = windowEnd = Infinity;
    const cpu = cpuWindow(a, b);
    const s = latency.summary();
    const expected = sentInWindow * READERS;
    const delivered = expected ? received / expected : 0;
    const pass = s.p99 <= P99_LIMIT_MS && delivered >= DELIVERY_FLOOR;
    const step = {
      rate,
      attempt: retried ? 2 : 1,
      achievedRate: Math.round((sentInWindow / cpu.wallMs) * 1000),
      p50: s.p50,
      p99: s.p99,
      p999: s.p999,
      max: s.max,
      delivered,
      pass,
      updatesPerFrame: frames ? (sentInWindow * READERS) / frames : 0,
      cpuUsPerUpdate: cpu.totalUs / Math.max(1, sentInWindow),
      serverUsPerUpdate: cpu.serverUs / Math.max(1, sentInWindow),
      cpuUsPerDelivery: cpu.totalUs / Math.max(1, received),
      serverUtil: cpu.serverUtil,
      generatorUtil: cpu.generatorUtil,
      scheduleLagP99: loop.lag.summary().p99,
      targetStats: await ctx.stats(),
      flags: generatorFlags(cpu),
    };
    steps.push(step);
    ctx.log(
      `${rate}/s: ${step.updatesPerFrame.toFixed(2)} updates/frame, p50 ${s.p50} p99 ${s.p99} ms, delivered ${(delivered * 100).toFixed(2)} %, ${step.cpuUsPerUpdate.toFixed(0)} µs/update, server ${(cpu.serverUtil * 100).toFixed(0)} %, gen ${(cpu.generatorUtil * 100).toFixed(0)} %`,
    );
    if (rate === COMPARE_RATE) {
      metrics[`server CPU per update @ ${rate}/s`] = metric(Math.round(step.cpuUsPerUpdate), 'µs', 'lower', step.flags);
      metrics[`server CPU per delivered update @ ${rate}/s`] = metric(Math.round(step.cpuUsPerDelivery * 10) / 10, 'µs', 'lower', step.flags);
      metrics[`  of which the server process @ ${rate}/s`] = metric(Math.round(step.serverUsPerUpdate), 'µs/update', 'lower', step.flags);
      metrics[`p50 @ ${rate}/s`] = metric(s.p50, 'ms', 'lower', step.flags);
      metrics[`p99 @ ${rate}/s`] = metric(s.p99, 'ms', 'lower', step.flags);
    }
    // An overloaded server still works through its backlog after the step: the next step waits for it to drain
    // (every update sent reached every reader), or starts from fresh connections when it does not within
    // DRAIN_LIMIT_MS, or when the server closed clients it could not keep up with.
    for (let waited = 0; waited < DRAIN_LIMIT_MS && deliveredTotal < sentTotal * READERS * DELIVERY_FLOOR; waited += 100) await sleep(100);
    const closed = [...writers, ...readers].map((c) => c.closedBy).filter((c): c is string => c !== null);
    const drained = deliveredTotal >= sentTotal * READERS * DELIVERY_FLOOR;
    if (closed.length > 0 || !drained) {
      ctx.log(
        `${rate}/s: ${closed.length ? `the server closed ${closed.length} clients (${[...new Set(closed)].join(', ')})` : `backlog not drained in ${DRAIN_LIMIT_MS / 1000} s`}: reconnecting`,
      );
      Object.assign(step, { closedByServer: closed.length, drained });
      await connect(connections++);
    }
    if (!pass && !retried) {
      retried = true;
      ctx.log(`${rate}/s failed: measured once more`);
      await sleep(500);
      continue;
    }
    retried = false;
    ladder.record(pass);
    await sleep(100);
  }
  const flags = steps.some((s) => (s.flags as string[]).length) ? ['generator-bound at some step'] : [];
  metrics['max sustained rate'] = metric(ladder.maxPassed, 'updates/s', 'higher', flags);
  for (const c of [...writers, ...readers]) c.close();
  return { metrics, details: { steps } };
}
