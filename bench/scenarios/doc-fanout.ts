/**
 * 1a. Fan-out latency of document updates: one writer per document typing at 20 updates/s (open loop), every other
 * client of the document reads. Writers are real providers (@hocuspocus/provider, y-websocket's WebsocketProvider);
 * readers are lean protocol clients, so that the generator's own processing of 99 deliveries in a row (a provider
 * applies each to its Y.Doc) does not dominate the latency of the last reader. Configurations: 1 document ×
 * 10 clients, 1 × 100, 10 × 10.
 */
import { leanClient, marker, providerClient, scanTimestamps, type DocClient, type ProviderClient } from '../lib/doc-clients.js';
import { presentationsWithEditors } from '../lib/deckhand-setup.js';
import { cpuWindow, docEndpoint, generatorFlags, latencyMetrics } from '../lib/measure.js';
import type { GenContext, Metric, ScenarioOutput } from '../lib/protocol.js';
import { openLoop, pool, sleep } from '../lib/schedule.js';
import { Latency } from '../lib/stats.js';

const RATE_PER_WRITER = 20;

export async function run(ctx: GenContext): Promise<ScenarioOutput> {
  const warmupMs = ctx.quick ? 600 : 2000;
  const measureMs = ctx.quick ? 1000 : 3000;
  const configs = ctx.quick
    ? [{ docs: 10, clients: 10 }]
    : [
        { docs: 1, clients: 10 },
        { docs: 1, clients: 100 },
        { docs: 10, clients: 10 },
      ];
  const ep = docEndpoint(ctx);
  const metrics: Record<string, Metric> = {};
  const details: unknown[] = [];
  for (const [n, cfg] of configs.entries()) {
    const label = `${cfg.docs}×${cfg.clients}`;
    const decks = Array.from({ length: cfg.docs }, (_, d) => ({
      id: `fan${n}-${d}`,
      owner: `u${n}-${d}-0`,
      editors: Array.from({ length: cfg.clients - 1 }, (_, c) => `u${n}-${d}-${c + 1}`),
    }));
    if (ep.needsMembers) await presentationsWithEditors(ctx.target, decks);
    const writers: ProviderClient[] = [];
    const readers: DocClient[] = [];
    for (const deck of decks) {
      const docName = ep.docName(deck.id);
      // The owner opens first (with AUTO_CREATE_PRESENTATIONS a first opener would own the deck).
      writers.push(providerClient({ protocol: ep.protocol, url: ep.url, docName, token: ep.token(deck.owner), writerId: `w-${deck.owner}` }));
      for (const user of deck.editors) readers.push(leanClient({ protocol: ep.protocol, url: ep.url, docName, token: ep.token(user) }));
    }
    await pool([...writers.map((w) => w.synced), ...readers.map((r) => r.synced)], 100, (p) => withTimeout(p, 30_000, `sync ${label}`));

    const latency = new Latency();
    let windowStart = Infinity;
    let windowEnd = Infinity;
    let received = 0;
    let sentInWindow = 0;
    for (const reader of readers) {
      reader.onUpdate = (update, at) =>
        scanTimestamps(update, (sentAt) => {
          if (sentAt < windowStart || sentAt >= windowEnd) return;
          latency.recordMs(at - sentAt);
          received++;
        });
    }
    const loop = openLoop(RATE_PER_WRITER * cfg.docs, (i) => {
      const now = performance.now();
      if (now >= windowStart && now < windowEnd) sentInWindow++;
      writers[i % writers.length]!.type(marker(now));
    });
    await sleep(warmupMs);
    const a = await ctx.mark(`fanout-${label}-start`);
    windowStart = performance.now();
    await sleep(measureMs);
    windowEnd = performance.now();
    const b = await ctx.mark(`fanout-${label}-end`);
    loop.stop();
    await sleep(ctx.quick ? 400 : 700); // late deliveries of in-window updates still count
    const cpu = cpuWindow(a, b);
    const expected = sentInWindow * (cfg.clients - 1);
    const summary = latency.summary();
    const flags = generatorFlags(cpu);
    Object.assign(metrics, latencyMetrics(`${label} latency`, summary, expected ? received / expected : 0, flags));
    details.push({ config: label, summary, sent: sentInWindow, received, expected, cpu, scheduleLagMs: loop.lag.summary() });
    ctx.log(
      `${label}: p50 ${summary.p50} ms p99 ${summary.p99} ms delivered ${received}/${expected} gen ${(cpu.generatorUtil * 100).toFixed(0)}% server ${(cpu.serverUtil * 100).toFixed(0)}%`,
    );
    for (const c of writers) c.destroy();
    for (const c of readers) c.close();
    await sleep(300);
  }
  return { metrics, details };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref())]);
}
