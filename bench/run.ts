/**
 * `npm run bench [-- --quick] [-- --only doc-rate,events]`: every scenario against every target, under the same
 * load, in one run; prints the tables with Deckhand/peer ratios and writes bench/results/.
 *
 * Method: Postgres and Redis (started here) and each server under test are pinned to CPU 0 (`taskset -c 0`); the
 * one load-generator process of a scenario run (bench/gen.ts) is pinned to CPU 1. The runner itself only waits and
 * reads /proc: when the generator asks for a mark, the runner reads the CPU time of the server, its Postgres
 * (postmaster + backends), Redis and the generator from /proc/{pid}/stat. A measurement is flagged
 * "generator-bound" when the generator used more than 85 % of its core.
 *
 * A `paired` scenario (scenarios/registry.ts) starts all its targets at once and one generator measures them in
 * alternating windows; during a target's window the others are stopped (SIGSTOP). `BENCH_B_ROOT=<another checkout>`
 * adds the target `deckhand-ws-b`, that checkout's server: an A/B of two versions in one paired run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist } from './lib/build.js';
import { cachedFixture } from './lib/fixture.js';
import { GENERATOR_CPU, hasTaskset, startBenchPostgres, startBenchRedis, type BenchPostgres, type BenchRedis } from './lib/infra.js';
import { cpuMicros, treeCpuMicros, type CpuSnapshot } from './lib/proc.js';
import type { GenMessage, RunRequest, ScenarioOutput, TargetInfo } from './lib/protocol.js';
import { renderMarkdown, type RunResults } from './lib/report.js';
import { spawnPinned, startTarget, type RunningTarget } from './lib/target-process.js';
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
/** BENCH_B_ROOT: another checkout of Deckhand, whose server the `fromB` targets run (an A/B in one run). */
const bRoot = process.env.BENCH_B_ROOT;
let bDist = '';
const spawnContext = (targetId?: string) => ({
  ...(targetId && TARGETS[targetId]?.fromB ? { root: bRoot!, dist: bDist } : { root: ROOT, dist }),
  ...(heap ? { heapDir: join(BENCH, 'results', 'profiles') } : {}),
  ...(verbose ? { log } : {}),
});

type TargetOutput = ScenarioOutput & { cpuWindows: Record<string, CpuSnapshot> };

/**
 * One scenario against its running targets: a fresh generator process pinned to CPU 1. One target, or several for a
 * paired scenario (the generator measures them in alternating windows; each mark reads the CPU of the target it names).
 */
async function runScenario(
  scenarioId: string,
  targets: { id: string; running: RunningTarget }[],
  paired: boolean,
  pg: BenchPostgres,
  redis: BenchRedis,
): Promise<Record<string, TargetOutput>> {
  const postmaster = pg.pid();
  const spawnedAt = performance.now();
  const gen = spawnPinned(spawnContext(), GENERATOR_CPU, join(BENCH, 'gen.ts'), {});
  let genOut = '';
  gen.stdout?.on('data', (d) => (genOut += d));
  gen.stderr?.on('data', (d) => (genOut += d));
  const byId = new Map(targets.map((t) => [t.id, t.running]));
  const marks: Record<string, Record<string, CpuSnapshot>> = Object.fromEntries(targets.map((t) => [t.id, {}]));
  const snapshot = (target: RunningTarget): CpuSnapshot => ({
    at: performance.now(),
    cpu: {
      server: cpuMicros(target.proc.pid!),
      postgres: treeCpuMicros(postmaster),
      redis: cpuMicros(redis.pid),
      generator: cpuMicros(gen.pid!),
    },
  });
  const info = ({ id, running }: { id: string; running: RunningTarget }): TargetInfo => {
    const def = TARGETS[id]!;
    return {
      id,
      label: def.label,
      kind: def.kind,
      ...(def.transport ? { transport: def.transport } : {}),
      port: running.port,
      http: `http://127.0.0.1:${running.port}`,
      ...(running.dbUrl ? { dbUrl: running.dbUrl } : {}),
      redisUrl: redis.url,
      secret: BENCH_SECRET,
    };
  };
  const name = paired ? scenarioId : targets[0]!.id;
  const pauseOthers = (measured: string, signal: 'SIGSTOP' | 'SIGCONT') => {
    for (const t of targets) if (t.id !== measured) t.running.proc.kill(signal);
  };
  try {
    return await new Promise((resolve, reject) => {
      let first = true;
      gen.on('message', (raw: unknown) => {
        const msg = raw as GenMessage;
        if (first && verbose) log(`  ${name}: generator up in ${(performance.now() - spawnedAt).toFixed(0)} ms`);
        first = false;
        if (msg.type === 'mark') {
          const target = byId.get(msg.of)!;
          // Paired: only the measured target runs during its window; the others are stopped (SIGSTOP), so their
          // idle work (timers, heartbeats) is not charged to it, and continued at its end.
          if (paired && msg.label.endsWith('-start')) pauseOthers(msg.of, 'SIGSTOP');
          const reply = () => {
            const snap = snapshot(target);
            marks[msg.of]![msg.label] = snap;
            if (paired && msg.label.endsWith('-end')) pauseOthers(msg.of, 'SIGCONT');
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
              `${msg.of}-${msg.label.replace(/-end$/, '').replace(/[^A-Za-z0-9_.-]/g, '_')}.cpuprofile`,
            );
            void target.request('profile-stop', { file });
          } else reply();
        } else if (msg.type === 'target') {
          void byId
            .get(msg.of)!
            .request(msg.request, msg.args ? { args: msg.args } : {})
            .then((value) => gen.send({ type: 'reply', id: msg.id, value }));
        } else if (msg.type === 'log') {
          log(`  ${name}: ${msg.message}`);
        } else if (msg.type === 'result') {
          resolve(Object.fromEntries(Object.entries(msg.outputs).map(([id, output]) => [id, { ...output, cpuWindows: marks[id] ?? {} }])));
        } else if (msg.type === 'error') {
          const outputs = targets.map((t) => `--- ${t.id} output ---\n${t.running.output().slice(-3000)}`).join('\n');
          reject(new Error(`${scenarioId}/${name}: ${msg.message}\n${outputs}`));
        }
      });
      gen.on('exit', (code) => reject(new Error(`generator exited (${code}):\n${genOut.slice(-3000)}`)));
      const req: RunRequest = { type: 'run', scenario: scenarioId, targets: targets.map(info), paired, quick };
      gen.send(req);
    });
  } finally {
    gen.kill('SIGKILL');
    if (paired) for (const t of targets) t.running.proc.kill('SIGCONT');
  }
}

function failure(err: unknown): TargetOutput {
  return { metrics: {}, error: String(err instanceof Error ? err.message : err).slice(0, 2000), cpuWindows: {} } as TargetOutput;
}

/**
 * A paired scenario: every other target is stopped and Redis flushed, then all of the scenario's targets start
 * afresh and stay up together while one generator measures them in alternating windows; they stop after it.
 */
async function runPaired(
  scenarioId: string,
  ids: string[],
  running: Map<string, RunningTarget>,
  pg: BenchPostgres,
  redis: BenchRedis,
  results: RunResults,
): Promise<void> {
  const started = performance.now();
  for (const target of running.values()) await target.stop();
  running.clear();
  await redis.flush();
  const targets: { id: string; running: RunningTarget }[] = [];
  try {
    for (const id of ids) targets.push({ id, running: await startTarget(spawnContext(id), id, pg, redis) });
    const outputs = await runScenario(scenarioId, targets, true, pg, redis);
    for (const id of ids) results.scenarios[scenarioId]!.targets[id] = outputs[id] ?? failure(new Error('no output'));
    log(`  ${ids.join(' + ')} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    log(`  ${ids.join(' + ')} FAILED: ${err instanceof Error ? err.message : String(err)}`);
    for (const id of ids) results.scenarios[scenarioId]!.targets[id] = failure(err);
  } finally {
    for (const t of targets) await t.running.stop();
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
  if (bRoot) bDist = await buildDist(bRoot);
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
  const targetsOf = (s: (typeof scenarios)[number]) =>
    (quick ? s.quickTargets : s.targets).filter((t) => (!targetsArg || targetsArg.includes(t)) && (bRoot || !TARGETS[t]?.fromB));
  scenarios.forEach((s, i) => targetsOf(s).forEach((t) => lastUse.set(t, i)));
  try {
    for (const [index, scenario] of scenarios.entries()) {
      log(`scenario ${scenario.id}`);
      results.scenarios[scenario.id] = { targets: {} };
      if (scenario.paired) {
        await runPaired(scenario.id, targetsOf(scenario), running, pg, redis, results);
        continue;
      }
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
            target = await startTarget(spawnContext(targetId), targetId, pg, redis);
            running.set(targetId, target);
          }
          const outputs = await runScenario(scenario.id, [{ id: targetId, running: target }], false, pg, redis);
          results.scenarios[scenario.id]!.targets[targetId] = outputs[targetId]!;
          log(`  ${targetId} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
          if ((lastUse.get(targetId) ?? 0) <= index) {
            await target.stop();
            running.delete(targetId);
          }
        } catch (err) {
          log(`  ${targetId} FAILED: ${err instanceof Error ? err.message : String(err)}`);
          results.scenarios[scenario.id]!.targets[targetId] = failure(err);
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
