/**
 * `npm run bench [-- --quick] [-- --only doc-rate,events]`: every scenario against every target, under the same
 * load, in one run; prints the tables with Deckhand/peer ratios and writes bench/results/.
 *
 * Method: Postgres and Redis (started here) and each server under test are pinned to CPU 0 (`taskset -c 0`); the
 * one load-generator process of a scenario run (bench/gen.ts) is pinned to CPU 1. The runner itself only waits and
 * reads /proc: when the generator asks for a mark, the runner reads the CPU time of the server, its Postgres
 * (postmaster + backends), Redis and the generator from /proc/{pid}/stat. A measurement is flagged
 * "generator-bound" when the generator used more than 85 % of its core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist, distPath } from './lib/build.js';
import { cachedFixture } from './lib/fixture.js';
import {
  createDatabase,
  GENERATOR_CPU,
  hasTaskset,
  SERVER_CPU,
  startBenchPostgres,
  startBenchRedis,
  type BenchPostgres,
  type BenchRedis,
} from './lib/infra.js';
import { cpuMicros, treeCpuMicros, type CpuSnapshot } from './lib/proc.js';
import type { GenMessage, RunRequest, ScenarioOutput, TargetInfo } from './lib/protocol.js';
import { renderMarkdown, type RunResults } from './lib/report.js';
import { TARGETS } from './lib/targets.js';
import { BENCH_SECRET } from './lib/tokens.js';
import { SCENARIOS } from './scenarios/registry.js';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1])?.split(',') : undefined;
const targetsArg = args
  .find((a) => a.startsWith('--targets='))
  ?.split('=')[1]
  ?.split(',');
/**
 * `--profile`: a CPU profile of the server for every measurement window (from the generator's `…-start` mark to
 * its `…-end` mark), in bench/results/profiles/<target>-<window>.cpuprofile (read with bench/tools/profile-summary.ts).
 */
const profile = args.includes('--profile');
const verbose = args.includes('--verbose');
/** `--heap`: targets write a heap snapshot at every memory reading, in bench/results/profiles/. */
const heap = args.includes('--heap');

function log(message: string): void {
  process.stdout.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${message}\n`);
}
const t0 = performance.now();

let dist = '';

/** `taskset -c <cpu> node <the script's transpiled .js>` with an IPC channel. */
function spawnPinned(cpu: string, script: string, env: Record<string, string>, extraArgs: string[] = []): ChildProcess {
  return spawn('taskset', ['-c', cpu, process.execPath, ...extraArgs, distPath(dist, ROOT, script)], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
}

interface RunningTarget {
  proc: ChildProcess;
  port: number;
  dbUrl: string | undefined;
  output: () => string;
  request(type: string, extra?: Record<string, unknown>): Promise<unknown>;
  stop(): Promise<void>;
}

async function startTarget(id: string, pg: BenchPostgres, redis: BenchRedis): Promise<RunningTarget> {
  const def = TARGETS[id]!;
  const startedAt = performance.now();
  const dbUrl = def.needsDb ? await createDatabase(pg.url, `bench_${id}`.replace(/[^a-z0-9_]/g, '_')) : undefined;
  const env = {
    ...def.env({ dbUrl, redisUrl: redis.url }),
    BENCH_TARGET_ID: id,
    ...(heap ? { BENCH_HEAP_DIR: join(BENCH, 'results', 'profiles') } : {}),
  };
  if (heap) mkdirSync(join(BENCH, 'results', 'profiles'), { recursive: true });
  const proc = spawnPinned(SERVER_CPU, join(BENCH, 'targets', def.script), env, ['--expose-gc']);
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  let nextId = 0;
  const waiting = new Map<number, (v: unknown) => void>();
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${id} did not start:\n${out}`)), 60_000);
    proc.on('message', (raw: unknown) => {
      const msg = raw as { type: string; port?: number; id?: number; value?: unknown };
      if (msg.type === 'ready') {
        clearTimeout(timer);
        resolve(msg.port!);
      } else if (msg.type === 'reply') {
        waiting.get(msg.id!)?.(msg.value);
        waiting.delete(msg.id!);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${id} exited (${code}):\n${out}`));
    });
  });
  if (verbose) log(`  ${id}: up in ${(performance.now() - startedAt).toFixed(0)} ms`);
  return {
    proc,
    port,
    dbUrl,
    output: () => out,
    request: (type, extra = {}) =>
      new Promise((resolve) => {
        const rid = ++nextId;
        waiting.set(rid, resolve);
        proc.send({ type, id: rid, ...extra });
      }),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.send({ type: 'stop' });
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** One scenario against one (running) target: a fresh generator process pinned to CPU 1. */
async function runScenario(
  scenarioId: string,
  targetId: string,
  target: RunningTarget,
  pg: BenchPostgres,
  redis: BenchRedis,
): Promise<ScenarioOutput & { cpuWindows: Record<string, CpuSnapshot> }> {
  const def = TARGETS[targetId]!;
  const postmaster = pg.pid();
  const spawnedAt = performance.now();
  const gen = spawnPinned(GENERATOR_CPU, join(BENCH, 'gen.ts'), {});
  let genOut = '';
  gen.stdout?.on('data', (d) => (genOut += d));
  gen.stderr?.on('data', (d) => (genOut += d));
  const marks: Record<string, CpuSnapshot> = {};
  const snapshot = (): CpuSnapshot => ({
    at: performance.now(),
    cpu: {
      server: cpuMicros(target.proc.pid!),
      postgres: treeCpuMicros(postmaster),
      redis: cpuMicros(redis.pid),
      generator: cpuMicros(gen.pid!),
    },
  });
  const info: TargetInfo = {
    id: targetId,
    label: def.label,
    kind: def.kind,
    ...(def.transport ? { transport: def.transport } : {}),
    port: target.port,
    http: `http://127.0.0.1:${target.port}`,
    ...(target.dbUrl ? { dbUrl: target.dbUrl } : {}),
    redisUrl: redis.url,
    secret: BENCH_SECRET,
  };
  try {
    return await new Promise((resolve, reject) => {
      let first = true;
      gen.on('message', (raw: unknown) => {
        const msg = raw as GenMessage;
        if (first && verbose) log(`  ${targetId}: generator up in ${(performance.now() - spawnedAt).toFixed(0)} ms`);
        first = false;
        if (msg.type === 'mark') {
          const reply = () => {
            const snap = snapshot();
            marks[msg.label] = snap;
            gen.send({ type: 'reply', id: msg.id, value: snap });
          };
          if (!profile) return reply();
          if (msg.label.endsWith('-start')) {
            void target.request('profile-start').then(reply);
          } else if (msg.label.endsWith('-end')) {
            reply();
            mkdirSync(join(BENCH, 'results', 'profiles'), { recursive: true });
            const file = join(
              BENCH,
              'results',
              'profiles',
              `${targetId}-${msg.label.replace(/-end$/, '').replace(/[^A-Za-z0-9_.-]/g, '_')}.cpuprofile`,
            );
            void target.request('profile-stop', { file });
          } else reply();
        } else if (msg.type === 'target') {
          void target.request(msg.request, msg.args ? { args: msg.args } : {}).then((value) => gen.send({ type: 'reply', id: msg.id, value }));
        } else if (msg.type === 'log') {
          log(`  ${targetId}: ${msg.message}`);
        } else if (msg.type === 'result') {
          resolve({ ...msg.output, cpuWindows: marks });
        } else if (msg.type === 'error') {
          reject(new Error(`${scenarioId}/${targetId}: ${msg.message}\n--- target output ---\n${target.output().slice(-3000)}`));
        }
      });
      gen.on('exit', (code) => reject(new Error(`generator exited (${code}):\n${genOut.slice(-3000)}`)));
      const req: RunRequest = { type: 'run', scenario: scenarioId, target: info, quick };
      gen.send(req);
    });
  } finally {
    gen.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  if (!hasTaskset()) throw new Error('taskset (util-linux) is required to pin the server and the generator to separate cores');
  if (cpus().length < 2) throw new Error('the benchmark needs 2 cores (server on CPU 0, generator on CPU 1)');
  const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.id));
  log(
    `${quick ? 'quick' : 'full'} run: ${scenarios.map((s) => s.id).join(', ')}; Node ${process.version}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const [pg, redis, built] = await Promise.all([startBenchPostgres(), startBenchRedis(), buildDist(ROOT)]);
  dist = built;
  // Deterministic fixtures, built once and cached in bench/.cache (the first run spends ~25 s here).
  const fixtureStarted = performance.now();
  cachedFixture(200 * 1024, 2);
  cachedFixture(quick ? 2 * 1024 * 1024 : 10 * 1024 * 1024, 1);
  if (performance.now() - fixtureStarted > 1000) log(`fixtures built in ${((performance.now() - fixtureStarted) / 1000).toFixed(1)} s`);
  const results: RunResults = {
    startedAt: new Date().toISOString(),
    quick,
    node: process.version,
    cpus: cpus().map((c) => c.model),
    loadAverageBefore: loadavg(),
    loadAverageAfter: [],
    durationS: 0,
    scenarios: {},
  };
  // Targets start on first use and stay up (idle) until the last scenario that uses them: one start per target.
  const running = new Map<string, RunningTarget>();
  const lastUse = new Map<string, number>();
  const targetsOf = (s: (typeof scenarios)[number]) => (quick ? s.quickTargets : s.targets).filter((t) => !targetsArg || targetsArg.includes(t));
  scenarios.forEach((s, i) => targetsOf(s).forEach((t) => lastUse.set(t, i)));
  try {
    for (const [index, scenario] of scenarios.entries()) {
      log(`scenario ${scenario.id}`);
      results.scenarios[scenario.id] = { targets: {} };
      for (const targetId of targetsOf(scenario)) {
        const started = performance.now();
        try {
          let target = running.get(targetId);
          // (Not in --quick: a smoke test does not need a fresh process, and a restart costs seconds.)
          if (target && scenario.fresh && !quick) {
            await target.stop();
            running.delete(targetId);
            target = undefined;
          }
          if (!target) {
            await redis.flush();
            target = await startTarget(targetId, pg, redis);
            running.set(targetId, target);
          }
          const output = await runScenario(scenario.id, targetId, target, pg, redis);
          results.scenarios[scenario.id]!.targets[targetId] = output;
          log(`  ${targetId} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
          if ((lastUse.get(targetId) ?? 0) <= index) {
            await target.stop();
            running.delete(targetId);
          }
        } catch (err) {
          log(`  ${targetId} FAILED: ${err instanceof Error ? err.message : String(err)}`);
          results.scenarios[scenario.id]!.targets[targetId] = {
            metrics: {},
            error: String(err instanceof Error ? err.message : err).slice(0, 2000),
            cpuWindows: {},
          } as never;
          await running.get(targetId)?.stop();
          running.delete(targetId);
        }
      }
    }
  } finally {
    for (const target of running.values()) await target.stop();
    await redis.stop();
    pg.stop();
  }
  results.loadAverageAfter = loadavg();
  results.durationS = Math.round((performance.now() - t0) / 100) / 10;
  const markdown = renderMarkdown(results);
  const dir = join(BENCH, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  writeFileSync(join(dir, `${quick ? 'quick' : 'run'}-${stamp}.json`), JSON.stringify(results, null, 2));
  if (quick || only || targetsArg) {
    writeFileSync(join(dir, 'quick.md'), markdown);
  } else {
    writeFileSync(join(dir, 'latest.md'), markdown);
    writeFileSync(join(dir, 'latest.json'), JSON.stringify(results, null, 2));
  }
  process.stdout.write(`\n${markdown}\n`);
  log(`done in ${results.durationS} s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
