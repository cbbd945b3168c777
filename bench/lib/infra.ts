/**
 * Postgres and Redis for a benchmark run, pinned to the server's CPU (taskset -c 0), on free loopback ports.
 * Modelled on test/helpers/postgres.ts and test/helpers/redis.ts, with one difference: Postgres keeps its durable
 * defaults here (fsync=on, synchronous_commit=on), so "acknowledged = committed" costs what it costs in production.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, waitForPort } from '../../test/helpers/ports.js';

export const SERVER_CPU = '0';
export const GENERATOR_CPU = '1';

export interface BenchPostgres {
  url: string;
  port: number;
  /** The postmaster's pid (its children are the backends). */
  pid(): number;
  stop(): void;
}

function pgBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'pg_ctl'))) return join(base, v, 'bin');
  return '';
}

/** `taskset -c <cpu> cmd …`, as the postgres user when we are root (Postgres refuses to run as root). */
function pinned(cpu: string, cmd: string, args: string[], asPostgres = false): [string, string[]] {
  const inner = ['-c', cpu, cmd, ...args];
  if (asPostgres && process.getuid?.() === 0) return ['runuser', ['-u', 'postgres', '--', 'taskset', ...inner]];
  return ['taskset', inner];
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const bin = pgBinDir();
  const tool = (name: string) => (bin ? join(bin, name) : name);
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-bench-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  const run = (cmd: string, args: string[]) => {
    const [c, a] = pinned(SERVER_CPU, cmd, args, true);
    const result = spawnSync(c, a, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${cmd} failed: ${result.stderr || result.stdout}`);
  };
  run(tool('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  run(tool('pg_ctl'), [
    '-D',
    data,
    '-l',
    join(dir, 'log'),
    '-w',
    '-t',
    '60',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB`,
    'start',
  ]);
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    pid: () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
    stop() {
      try {
        run(tool('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A fresh database on the bench Postgres; returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return adminUrl.replace(/\/[^/]*$/, `/${name}`);
}

export interface BenchRedis {
  url: string;
  port: number;
  pid: number;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const [cmd, args] = pinned(SERVER_CPU, process.env.REDIS_SERVER_BIN ?? 'redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'no',
  ]);
  const child: ChildProcess = spawn(cmd, args, { stdio: 'ignore' });
  await waitForPort(port, 10_000);
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    port,
    // taskset execs redis-server: same pid.
    pid: child.pid!,
    async flush() {
      const { Redis } = await import('ioredis');
      const client = new Redis(url, { lazyConnect: false });
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

export function hasTaskset(): boolean {
  return spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}
