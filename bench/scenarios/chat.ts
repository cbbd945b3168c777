/**
 * 2b. Chat fan-out: REST post (stored in Postgres) → the bus (Redis) → every member following `chat.{id}`.
 *   fan-out — 100 members (viewers) of one presentation follow its chat; 10 commenters post 20 messages/s round-robin
 *             (open loop, 2 s warm-up): 2,000 deliveries/s. Latency post → delivery, delivered fraction, server CPU
 *             (process + Postgres + Redis) per message and per delivery.
 *   ramp    — 50 → 100 → 200 messages/s to the same 100 members until p99 > 250 ms or any loss.
 * The chat rate limit per user is raised past the load by the target's environment (bench/lib/targets.ts).
 */
import { chatPoster, createChatDeck, joinChat, type ChatMember } from '../lib/chat-clients.js';
import { marker } from '../lib/doc-clients.js';
import { cpuWindow, generatorFlags, latencyMetrics, metric, type CpuWindow } from '../lib/measure.js';
import type { GenContext, Metric, ScenarioOutput } from '../lib/protocol.js';
import { openLoop, pool, sleep, until } from '../lib/schedule.js';
import { Latency, type LatencySummary } from '../lib/stats.js';

const DECK = 'bench-chat';
const FIXED_RATE = 20;

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
  if (target.kind !== 'deckhand') throw new Error('the chat scenario runs against Deckhand only');
  const members = ctx.quick ? 20 : 100;
  const warmupMs = ctx.quick ? 600 : 2000;
  const fixedMs = ctx.quick ? 1000 : 3000;
  const stepMs = ctx.quick ? 1000 : 1500;
  const rampRates = ctx.quick ? [] : [50, 100, 200];
  const readers = Array.from({ length: members }, (_, i) => `chat-reader-${i}`);
  const posters = Array.from({ length: 10 }, (_, i) => `chat-poster-${i}`);
  await createChatDeck(target, DECK, 'chat-owner', readers, posters);

  const following: ChatMember[] = [];
  await pool(readers, 50, async (user) => {
    const member = joinChat(target, DECK, user);
    following.push(member);
    await member.ready;
  });
  const poster = chatPoster(target, DECK, posters);
  // Every member live: a warm-up message reaches all of them.
  poster.post('warm-up', 0);
  await until(() => following.every((m) => m.received > 0), 10_000, 'the warm-up message at every member');

  let latency = new Latency();
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let received = 0;
  for (const m of following) {
    m.onMessage = (sentAt, at) => {
      if (sentAt < windowStart || sentAt >= windowEnd) return;
      latency.recordMs(at - sentAt);
      received++;
    };
  }

  async function measure(rate: number, warmup: number, windowMs: number): Promise<Window> {
    let sent = 0;
    const errorsBefore = poster.errors;
    const loop = openLoop(rate, (i) => {
      const now = performance.now();
      if (now >= windowStart && now < windowEnd) sent++;
      poster.post(`message ${marker(now)}`, i);
    });
    await sleep(warmup);
    latency = new Latency();
    received = 0;
    const a = await ctx.mark(`chat-${rate}-start`);
    windowStart = performance.now();
    await sleep(windowMs);
    windowEnd = performance.now();
    const b = await ctx.mark(`chat-${rate}-end`);
    loop.stop();
    let last = -1;
    for (let waited = 0; waited < 3000 && (received !== last || poster.inflight > 0); waited += 150) {
      last = received;
      await sleep(150);
    }
    windowStart = windowEnd = Infinity;
    const expected = sent * members;
    return {
      summary: latency.summary(),
      sent,
      received,
      delivered: expected ? received / expected : 0,
      cpu: cpuWindow(a, b),
      errors: poster.errors - errorsBefore,
    };
  }

  const metrics: Record<string, Metric> = {};
  const fixed = await measure(FIXED_RATE, warmupMs, fixedMs);
  const flags = generatorFlags(fixed.cpu);
  const label = `${FIXED_RATE} msg/s → ${members} members`;
  Object.assign(metrics, latencyMetrics(`${label} latency`, fixed.summary, fixed.delivered, flags));
  metrics[`${label}: deliveries/s`] = metric(Math.round(fixed.received / (fixed.cpu.wallMs / 1000)), 'deliveries/s', 'higher', flags);
  metrics[`server CPU per message @ ${FIXED_RATE}/s (post, store, publish, fan-out)`] = metric(
    Math.round(fixed.cpu.totalUs / Math.max(1, fixed.sent)),
    'µs',
    'lower',
    flags,
  );
  metrics[`server CPU per delivery @ ${FIXED_RATE}/s`] = metric(
    Math.round((fixed.cpu.totalUs / Math.max(1, fixed.received)) * 100) / 100,
    'µs',
    'lower',
    flags,
  );
  ctx.log(
    `${label}: p50 ${fixed.summary.p50} p99 ${fixed.summary.p99} ms, delivered ${(fixed.delivered * 100).toFixed(3)} %, ${(fixed.cpu.totalUs / Math.max(1, fixed.sent)).toFixed(0)} µs/message, server ${(fixed.cpu.serverUtil * 100).toFixed(0)} %, gen ${(fixed.cpu.generatorUtil * 100).toFixed(0)} %, errors ${fixed.errors}`,
  );

  const steps: unknown[] = [];
  let maxRate = fixed.summary.p99 <= 250 && fixed.delivered >= 1 && fixed.errors === 0 ? FIXED_RATE : 0;
  let rampFlags: string[] = [];
  for (const rate of maxRate ? rampRates : []) {
    const w = await measure(rate, ctx.quick ? 300 : 500, stepMs);
    const pass = w.summary.p99 <= 250 && w.delivered >= 1 && w.errors === 0;
    steps.push({ rate, pass, ...w });
    rampFlags = [...rampFlags, ...generatorFlags(w.cpu)];
    ctx.log(
      `ramp ${rate} msg/s: p99 ${w.summary.p99} ms, delivered ${(w.delivered * 100).toFixed(3)} %, server ${(w.cpu.serverUtil * 100).toFixed(0)} %, errors ${w.errors}${pass ? '' : ' ✗'}`,
    );
    if (!pass) break;
    maxRate = rate;
  }
  if (rampRates.length) {
    metrics[`ramp: max messages/s to ${members} members (p99 ≤ 250 ms, no loss; ${rampRates.at(-1)} = all passed)`] = metric(
      maxRate,
      'messages/s',
      'higher',
      rampFlags.length ? ['generator-bound at some step'] : [],
    );
  }

  for (const m of following) m.close();
  const notes = poster.errors ? [`${poster.errors} posts refused or failed`] : [];
  return { metrics, notes, details: { members, fixed, steps } };
}
