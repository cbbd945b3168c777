/**
 * A server under test as a child process of the runner: started pinned to the server's core (`taskset -c 0`), with an
 * IPC channel for the runner's requests (memory, phases, profiles, stop). Also spawns the generator (bench/gen.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { distPath } from './build.js';
import { createDatabase, SERVER_CPU, type BenchPostgres, type BenchRedis } from './infra.js';
import { TARGETS } from './targets.js';

export interface RunningTarget {
  proc: ChildProcess;
  port: number;
  dbUrl: string | undefined;
  output: () => string;
  request(type: string, extra?: Record<string, unknown>): Promise<unknown>;
  stop(): Promise<void>;
}

export interface SpawnContext {
  /** Root of the repository. */
  root: string;
  /** The transpiled copy of the repository (bench/lib/build.ts). */
  dist: string;
  /** Where targets write heap snapshots (`--heap`), if they do. */
  heapDir?: string;
  /** Logs a target's start-up time. */
  log?: (message: string) => void;
}

/** `taskset -c <cpu> node <the script's transpiled .js>` with an IPC channel. */
export function spawnPinned(ctx: SpawnContext, cpu: string, script: string, env: Record<string, string>, extraArgs: string[] = []): ChildProcess {
  return spawn('taskset', ['-c', cpu, process.execPath, ...extraArgs, distPath(ctx.dist, ctx.root, script)], {
    cwd: ctx.root,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
}

export async function startTarget(ctx: SpawnContext, id: string, pg: BenchPostgres, redis: BenchRedis): Promise<RunningTarget> {
  const def = TARGETS[id]!;
  const startedAt = performance.now();
  const dbUrl = def.needsDb ? await createDatabase(pg.url, `bench_${id}`.replace(/[^a-z0-9_]/g, '_')) : undefined;
  const env = {
    ...def.env({ dbUrl, redisUrl: redis.url }),
    BENCH_TARGET_ID: id,
    ...(ctx.heapDir ? { BENCH_HEAP_DIR: ctx.heapDir } : {}),
  };
  if (ctx.heapDir) mkdirSync(ctx.heapDir, { recursive: true });
  const proc = spawnPinned(ctx, SERVER_CPU, join(ctx.root, 'bench', 'targets', def.script), env, ['--expose-gc']);
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
  ctx.log?.(`  ${id}: up in ${(performance.now() - startedAt).toFixed(0)} ms`);
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
