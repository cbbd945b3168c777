/**
 * 1e. Durability cost: edit → ack latency. Deckhand applies and broadcasts an update at once and acknowledges it
 * (SyncStatus) only once it is appended to Postgres (group commit); bare Hocuspocus acknowledges it once applied in
 * memory. For Deckhand the scenario also runs the update log's group commit alone against the same Postgres
 * (../lib/commit-probe.ts, 100 writers at 10/s): the target is ack p99 ≤ Hocuspocus' ack p99 + that commit p99. Lean Hocuspocus-protocol writers,
 * open loop: 1 writer at 50 updates/s, and 100 writers over 10 documents at 10 updates/s each (1,000 updates/s).
 * Acks of one connection come in order (Hocuspocus handles a connection's messages one at a time), so each ack is
 * matched with the oldest unacknowledged send.
 */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitProbe } from '../lib/commit-probe.js';
import { leanClient, marker, type DocClient } from '../lib/doc-clients.js';
import { presentationsWithEditors } from '../lib/deckhand-setup.js';
import { cpuWindow, docEndpoint, generatorFlags, latencyMetrics, metric } from '../lib/measure.js';
import type { GenContext, Metric, ScenarioOutput } from '../lib/protocol.js';
import { openLoop, sleep, until } from '../lib/schedule.js';
import { Latency } from '../lib/stats.js';

/** fdatasync latency of 8 KiB writes on the filesystem of the bench Postgres (its data dir is under the tmpdir). */
function fsyncProbe(ms: number): Latency {
  const file = join(tmpdir(), `deckhand-bench-fsync-${process.pid}`);
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(8192, 1);
  const latency = new Latency();
  try {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      writeSync(fd, block);
      const t = performance.now();
      fdatasyncSync(fd);
      latency.recordMs(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  return latency;
}

export async function run(ctx: GenContext): Promise<ScenarioOutput> {
  const warmupMs = ctx.quick ? 600 : 2000;
  const measureMs = ctx.quick ? 1000 : 3000;
  const ep = docEndpoint(ctx);
  const metrics: Record<string, Metric> = {};
  const details: unknown[] = [];
  const configs = [...(ctx.quick ? [] : [{ writers: 1, docs: 1, perWriter: 50 }]), { writers: 100, docs: 10, perWriter: 10 }];
  // What a commit costs at the disk, measured in the same run (Postgres commits wait for one fdatasync).
  const disk = fsyncProbe(ctx.quick ? 300 : 1000).summary();
  metrics['reference: disk fdatasync p50'] = metric(disk.p50, 'ms', 'lower');
  metrics['reference: disk fdatasync p99'] = metric(disk.p99, 'ms', 'lower');
  ctx.log(`disk fdatasync (8 KiB): p50 ${disk.p50} p99 ${disk.p99} max ${disk.max} ms`);
  for (const [n, cfg] of configs.entries()) {
    const perDoc = cfg.writers / cfg.docs;
    const decks = Array.from({ length: cfg.docs }, (_, d) => ({
      id: `dur${n}-${d}`,
      owner: `d${n}-${d}-0`,
      editors: Array.from({ length: perDoc - 1 }, (_, c) => `d${n}-${d}-${c + 1}`),
    }));
    if (ep.needsMembers) await presentationsWithEditors(ctx.target, decks);
    const writers: DocClient[] = [];
    for (const deck of decks) {
      for (const user of [deck.owner, ...deck.editors]) {
        const w = leanClient({
          protocol: ep.protocol,
          url: ep.url,
          docName: ep.docName(deck.id),
          token: ep.token(user),
          writer: true,
          writerId: `w-${user}`,
        });
        writers.push(w);
        if (user === deck.owner) await w.synced;
      }
    }
    await Promise.all(writers.map((w) => w.synced));
    // The handshake's SyncStep2 is acknowledged too: start matching acks only after that one arrived.
    await until(() => writers.every((w) => w.acks >= 1), 10_000, 'handshake acks');

    const latency = new Latency();
    let windowStart = Infinity;
    let windowEnd = Infinity;
    let acked = 0;
    let sentInWindow = 0;
    let refused = 0;
    const inflight = writers.map(() => [] as number[]);
    writers.forEach((w, k) => {
      w.onAck = (ok, at) => {
        const sentAt = inflight[k]!.shift();
        if (sentAt === undefined) return;
        if (!ok) refused++;
        if (sentAt < windowStart || sentAt >= windowEnd) return;
        latency.recordMs(at - sentAt);
        acked++;
      };
    });
    const loop = openLoop(cfg.writers * cfg.perWriter, (i) => {
      const k = i % writers.length;
      const now = performance.now();
      if (now >= windowStart && now < windowEnd) sentInWindow++;
      inflight[k]!.push(now);
      writers[k]!.type(marker(now));
    });
    await sleep(warmupMs);
    const a = await ctx.mark(`ack-${cfg.writers}-start`);
    windowStart = performance.now();
    await sleep(measureMs);
    windowEnd = performance.now();
    const b = await ctx.mark(`ack-${cfg.writers}-end`);
    loop.stop();
    await sleep(ctx.quick ? 400 : 700);
    const cpu = cpuWindow(a, b);
    const flags = generatorFlags(cpu);
    const s = latency.summary();
    const label = `${cfg.writers} writer${cfg.writers > 1 ? 's' : ''} (${cfg.writers * cfg.perWriter}/s)`;
    const all = latencyMetrics(`${label} ack`, s, sentInWindow ? acked / sentInWindow : 0, flags);
    delete all[`${label} ack delivered`];
    Object.assign(metrics, all);
    metrics[`${label} acked`] = metric(Math.floor((sentInWindow ? acked / sentInWindow : 0) * 100_000) / 1000, '%', 'higher', flags);
    metrics[`${label} server CPU per update`] = metric(Math.round(cpu.totalUs / Math.max(1, sentInWindow)), 'µs', 'lower', flags);
    const stats = await ctx.stats();
    details.push({ config: label, summary: s, sent: sentInWindow, acked, refused, cpu, scheduleLagMs: loop.lag.summary(), targetStats: stats });
    ctx.log(
      `${label}: ack p50 ${s.p50} p99 ${s.p99} p99.9 ${s.p999} ms, acked ${acked}/${sentInWindow}, gen ${(cpu.generatorUtil * 100).toFixed(0)} % ${stats ? JSON.stringify((stats as { updateLog: unknown }).updateLog) : ''}`,
    );
    for (const w of writers) w.close();
    await sleep(300);
  }
  if (ctx.target.kind === 'deckhand' && ctx.target.dbUrl) {
    const commits = (await commitProbe(ctx.target.dbUrl, 100, 10, measureMs)).summary();
    metrics['reference: update-log commit p50 (100 writers, 1000/s)'] = metric(commits.p50, 'ms', 'lower');
    metrics['reference: update-log commit p99 (100 writers, 1000/s)'] = metric(commits.p99, 'ms', 'lower');
    ctx.log(`update-log commit alone (100 writers, 1000/s): p50 ${commits.p50} p99 ${commits.p99} ms`);
  }
  return { metrics, details };
}
