/**
 * Progress ingest alone, longer than the bench's window, to read a profile without the rest of the run:
 * `TARGET=deckhand-ws SECONDS=5 [RATE=100 | PACE=100] [PROFILE=1] [ALLOC=1] [STRACE=1] [PERF=1] [REDIS_STATS=1] [IDLE_JOB=1] [IDLE_MS=5000
 * IDLE_SUBSCRIBERS=1000] npx tsx bench/tools/ingest-probe.ts` starts the bench's Postgres, Redis
 * and one target (`deckhand-ws` or `socketio-redis`, `raw-ws`) pinned to CPU 0 as `npm run bench` does, one
 * subscriber per job, then autocannon (16 connections, round-robin over 16 jobs) from this process on CPU 1. Prints
 * POSTs/s and server CPU per POST (process, Postgres, Redis); PROFILE=1 writes the target's CPU profile of the window
 * to bench/results/profiles/probe-<target>.cpuprofile (read it with bench/tools/profile-summary.ts); ALLOC=1 writes the
 * window's sampling allocation profile to bench/results/profiles/probe-<target>.heapprofile (read it with
 * bench/tools/alloc-summary.ts <file> <requests>).
 * PACE=N: N POSTs/s on an even schedule from one keep-alive publisher (as the bench's fixed-load windows send them,
 * where autocannon's RATE sends each second's quota in a burst), with the context switches of each process per POST:
 * at low rates a POST's cost is mostly its wake-ups.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJobs, publisher, subscribe } from '../lib/event-clients.js';
import { postRoundRobin } from '../lib/ingest-load.js';
import { createDatabase, SERVER_CPU, startBenchPostgres, startBenchRedis } from '../lib/infra.js';
import { contextSwitches, cpuMicros, treeCpuMicros } from '../lib/proc.js';
import { openLoop } from '../lib/schedule.js';
import type { TargetInfo } from '../lib/protocol.js';
import { TARGETS } from '../lib/targets.js';
import { BENCH_SECRET, mintToken } from '../lib/tokens.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const id = process.env.TARGET ?? 'deckhand-ws';
const seconds = Number(process.env.SECONDS ?? 5);
const def = TARGETS[id];
if (!def) throw new Error(`unknown target ${id}`);

const [pg, redis] = await Promise.all([startBenchPostgres(), startBenchRedis()]);
const dbUrl = def.needsDb ? await createDatabase(pg.url, 'probe') : undefined;
const profiles = join(ROOT, 'bench', 'results', 'profiles');
mkdirSync(profiles, { recursive: true });
// PROFILE=process: node's own --cpu-prof of the whole target process (start-up included), written when it stops.
const cpuProf = process.env.PROFILE === 'process' ? ['--cpu-prof', '--cpu-prof-dir', profiles, '--cpu-prof-interval', '500'] : [];
const nodeFlags = (process.env.NODE_FLAGS ?? '').split(' ').filter(Boolean);
const proc = spawn(
  'taskset',
  ['-c', SERVER_CPU, process.execPath, ...cpuProf, ...nodeFlags, '--import', 'tsx', join(ROOT, 'bench', 'targets', def.script)],
  {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', ...def.env({ dbUrl, redisUrl: redis.url }), BENCH_TARGET_ID: id },
    stdio: ['ignore', process.env.NODE_FLAGS ? 'inherit' : 'pipe', 'inherit', 'ipc'],
  },
);
const port = await new Promise<number>((resolve) =>
  proc.on('message', (m: { type: string; port?: number }) => m.type === 'ready' && resolve(m.port!)),
);
const ask = (type: string, extra: object = {}) =>
  new Promise<void>((resolve) => {
    proc.once('message', () => resolve());
    proc.send({ type, id: 1, ...extra });
  });
const target: TargetInfo = {
  id,
  label: def.label,
  kind: def.kind,
  ...(def.transport ? { transport: def.transport } : {}),
  port,
  http: `http://127.0.0.1:${port}`,
  ...(dbUrl ? { dbUrl } : {}),
  redisUrl: redis.url,
  secret: BENCH_SECRET,
};
try {
  const jobs = Array.from({ length: 16 }, (_, i) => `probe-${i}`);
  // IDLE_JOB=1: the idle subscribers follow a job of their own that nobody posts to (the bench's ingest phase has
  // its 2,000 subscribers on other jobs); without it they are spread over the posted jobs.
  const idleJobs = process.env.IDLE_JOB === '1' ? ['probe-idle'] : jobs;
  await createJobs(target, idleJobs === jobs ? jobs : [...jobs, ...idleJobs]);
  // IDLE_SUBSCRIBERS=N: N more subscribers (distinct users), as the bench attaches 2,000.
  const idle = Number(process.env.IDLE_SUBSCRIBERS ?? 0);
  const extra = Array.from({ length: idle }, (_, i) => subscribe(target, idleJobs[i % idleJobs.length]!, `idle${i}`));
  await Promise.all(extra.map((s) => s.ready));
  const subs = jobs.map((job, i) => subscribe(target, job, `p${i}`));
  await Promise.all(subs.map((s) => s.ready));
  let delivered = 0;
  for (const s of subs) s.onEvent = () => delivered++;
  const requests = jobs.map((job) => publisher(target).ingestRequest(job));
  const run = (duration: number) =>
    postRoundRobin(target.http, requests, {
      connections: Number(process.env.CONNECTIONS ?? 16),
      seconds: duration,
      // RATE=N: N POSTs/s in all (as the bench's fixed-load windows), not as many as the target answers.
      ...(process.env.RATE ? { overallRate: Number(process.env.RATE) } : {}),
    });
  /** PACE: `rate` POSTs/s for `duration` s on an even schedule; the same summary fields as autocannon's. */
  const paced = async (rate: number, duration: number) => {
    const pub = publisher(target);
    const loop = openLoop(rate, (i) => pub.publish(jobs[i % jobs.length]!, '[t=0]', i));
    await new Promise((r) => setTimeout(r, duration * 1000));
    loop.stop();
    while (pub.inflight > 0) await new Promise((r) => setTimeout(r, 10));
    return {
      requests: { total: pub.ok + pub.errors, average: (pub.ok + pub.errors) / duration },
      non2xx: pub.errors,
      errors: 0,
      latency: { p50: NaN, p99: NaN },
    };
  };
  await run(1); // warm-up
  if (process.env.IDLE_MS) {
    // The warm-up's last deliveries (to every subscriber) are not idle work: let them drain first.
    await new Promise((r) => setTimeout(r, 3000));
    // PROFILE=idle: the CPU profile of this idle window instead (bench/results/profiles/probe-<target>-idle.cpuprofile).
    if (process.env.PROFILE === 'idle') await ask('profile-start');
    const at = performance.now();
    const start = { server: cpuMicros(proc.pid!), pg: treeCpuMicros(pg.pid()), redis: cpuMicros(redis.pid) };
    await new Promise((r) => setTimeout(r, Number(process.env.IDLE_MS)));
    if (process.env.PROFILE === 'idle') await ask('profile-stop', { file: join(profiles, `probe-${id}-idle.cpuprofile`) });
    const pct = (us: number) => `${((us / ((performance.now() - at) * 1000)) * 100).toFixed(1)} %`;
    console.log(
      `idle: server process at ${pct(cpuMicros(proc.pid!) - start.server)} of a core, Postgres ${pct(treeCpuMicros(pg.pid()) - start.pg)}, ` +
        `Redis ${pct(cpuMicros(redis.pid) - start.redis)} (${idle + jobs.length} subscribers)`,
    );
  }
  if (process.env.PROFILE === '1') await ask('profile-start');
  if (process.env.ALLOC === '1') await ask('alloc-start');
  // STRACE=1: syscall counts of the target during the window (slows it down: for counts only, not for speed).
  const tracer = process.env.STRACE
    ? spawn('strace', ['-c', '-f', '-p', String(proc.pid), '-o', join(profiles, `probe-${id}.strace`)], { stdio: 'ignore' })
    : undefined;
  // PERF=1: `perf record` of the target (software clock, kernel and user; node's JIT frames need NODE_FLAGS=--perf-basic-prof).
  const perf = process.env.PERF
    ? spawn('perf', ['record', '-e', 'cpu-clock', '-F', '4000', '-g', '-p', String(proc.pid), '-o', join(profiles, `probe-${id}.perf.data`)], {
        stdio: 'ignore',
      })
    : undefined;
  if (tracer || perf) await new Promise((r) => setTimeout(r, 500));
  const before = { server: cpuMicros(proc.pid!), pg: treeCpuMicros(pg.pid()), redis: cpuMicros(redis.pid), at: performance.now() };
  const switches = () => ({ server: contextSwitches(proc.pid!), pg: contextSwitches(pg.pid(), true), redis: contextSwitches(redis.pid) });
  // REDIS_STATS=1: Redis's own time per command during the window (INFO commandstats).
  const commandStats = async (reset: boolean) => {
    if (!process.env.REDIS_STATS) return;
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.url);
    try {
      if (reset) await client.config('RESETSTAT');
      else {
        console.log((await client.info('commandstats')).trim());
        console.log(
          (await client.info('stats'))
            .split('\n')
            .filter((l) => l.startsWith('total_net_'))
            .join('\n'),
        );
      }
    } finally {
      client.disconnect();
    }
  };
  await commandStats(true);
  const switchesBefore = switches();
  const result = process.env.PACE ? await paced(Number(process.env.PACE), seconds) : await run(seconds);
  const switchesAfter = switches();
  await commandStats(false);
  const after = { server: cpuMicros(proc.pid!), pg: treeCpuMicros(pg.pid()), redis: cpuMicros(redis.pid), at: performance.now() };
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.once('exit', r));
  }
  if (tracer) {
    tracer.kill('SIGINT');
    await new Promise((r) => tracer.once('exit', r));
  }
  if (process.env.PROFILE === '1') await ask('profile-stop', { file: join(profiles, `probe-${id}.cpuprofile`) });
  if (process.env.ALLOC === '1') await ask('alloc-stop', { file: join(profiles, `probe-${id}.heapprofile`) });
  const n = result.requests.total;
  const per = (us: number) => (us / n).toFixed(0);
  console.log(
    `${id}: ${Math.round(result.requests.average)} POSTs/s (${result.non2xx} non-2xx, ${result.errors} errors), p50 ${result.latency.p50} p99 ${result.latency.p99} ms; ` +
      `server CPU per POST ${per(after.server - before.server + after.pg - before.pg + after.redis - before.redis)} µs ` +
      `(process ${per(after.server - before.server)}, Postgres ${per(after.pg - before.pg)}, Redis ${per(after.redis - before.redis)}); ` +
      `server process at ${(((after.server - before.server) / ((after.at - before.at) * 1000)) * 100).toFixed(0)} % of a core; delivered ${delivered}`,
  );
  const perPost = (k: 'server' | 'pg' | 'redis') => ((switchesAfter[k] - switchesBefore[k]) / n).toFixed(2);
  console.log(`context switches per POST: process ${perPost('server')}, Postgres ${perPost('pg')}, Redis ${perPost('redis')}`);
  if (def.kind === 'deckhand') {
    // How many bus commits the POSTs took (a stale one: another change of the job went first, and it was retried).
    const res = await fetch(`${target.http}/metrics`, { headers: { authorization: `Bearer ${mintToken('probe', 'metrics:read')}` } });
    const lines = (await res.text()).split('\n').filter((l) => l.startsWith('deckhand_bus_publishes_total{'));
    console.log(`bus commits since start: ${lines.join(', ')}`);
  }
  for (const s of [...subs, ...extra]) s.close();
} finally {
  if (cpuProf.length) {
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.send({ type: 'stop' });
    await exited;
  }
  proc.kill('SIGKILL');
  await redis.stop();
  pg.stop();
}
process.exit(0);
