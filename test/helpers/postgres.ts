/**
 * A real Postgres for the test run: initdb into a temp dir, pg_ctl start on a free port, stopped at the end.
 * Postgres refuses to run as root, so as root the server runs as the `postgres` system user (created by Debian's
 * postgresql packages, which .ci/run installs).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface PostgresServer {
  url: string;
  port: number;
  /** Stops the server and deletes its data. */
  stop(): void;
  /** Stops the server (fast shutdown), keeping its data: an outage. */
  pause(): void;
  /** Starts it again on the same port after pause(). */
  resume(): void;
}

function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'pg_ctl'))) return join(base, v, 'bin');
  return ''; // rely on PATH
}

function asServerUser(cmd: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [cmd, args];
  return ['runuser', ['-u', 'postgres', '--', cmd, ...args]];
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  const tool = (name: string) => (bin ? join(bin, name) : name);
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  const run = (cmd: string, args: string[]) => {
    const [c, a] = asServerUser(cmd, args);
    const result = spawnSync(c, a, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${cmd} failed: ${result.stderr || result.stdout}`);
  };
  run(tool('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const start = () =>
    run(tool('pg_ctl'), [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`,
      'start',
    ]);
  start();
  return {
    port,
    pause: () => run(tool('pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']),
    resume: start,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        run(tool('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped (paused)
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
