/** A real redis-server on a free port (no persistence unless asked for); stopped at the end. */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitForPort } from './ports.js';

export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** An append-only file in this folder, fsynced on every write: a kill -9 and a restart keep every key. */
  appendOnlyDir?: string;
}

export async function startRedis(port?: number, options: RedisOptions = {}): Promise<RedisServer> {
  const p = port ?? (await freePort());
  const persistence = options.appendOnlyDir
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.appendOnlyDir]
    : ['--appendonly', 'no'];
  const child = spawn(
    process.env.REDIS_SERVER_BIN ?? 'redis-server',
    ['--port', String(p), '--bind', '127.0.0.1', '--save', '', ...persistence, '--protected-mode', 'no'],
    { stdio: 'ignore' },
  );
  await waitForPort(p, 10_000);
  return {
    url: `redis://127.0.0.1:${p}`,
    port: p,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
