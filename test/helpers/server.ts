/**
 * Starting Deckhand for tests: in-process (`startServer`, fast, for most tests) or as a child process
 * (`startServerProcess`, for kill -9 and signal tests). Both use real Postgres/PGlite and real Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import jwt from 'jsonwebtoken';
import { build } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { freePort } from './ports.js';

export const TEST_SECRET = 'test-secret-0123456789abcdef-deckhand';
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TokenOptions {
  name?: string;
  scope?: string;
  expiresIn?: number;
  secret?: string;
}

/** Mints an HS256 token the test servers accept (or, with `secret`, one they must refuse). */
export function mintToken(sub: string, options: TokenOptions = {}): string {
  const claims: Record<string, unknown> = { sub, name: options.name ?? sub };
  if (options.scope) claims.scope = options.scope;
  return jwt.sign(claims, options.secret ?? TEST_SECRET, { algorithm: 'HS256', expiresIn: options.expiresIn ?? 3600 });
}

export interface TestServer {
  app: FastifyInstance;
  url: string;
  wsUrl: string;
  close(): Promise<void>;
}

export function baseEnv(env: Record<string, string | undefined>): Record<string, string> {
  const result: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: '0',
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: TEST_SECRET,
  };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) result[k] = v;
  return result;
}

export async function startServer(env: Record<string, string | undefined>): Promise<TestServer> {
  const config = loadConfig(baseEnv(env));
  const app = await build(config, { logger: false });
  const address = await app.listen({ port: config.port, host: config.host });
  return {
    app,
    url: address,
    wsUrl: `${address.replace(/^http/, 'ws')}/api/v1/collab`,
    close: () => app.close(),
  };
}

export interface ServerProcess {
  proc: ChildProcess;
  url: string;
  wsUrl: string;
  output: () => string;
  /** SIGKILL, no cleanup at all. */
  kill9(): Promise<void>;
  /** SIGTERM, resolves with the exit code and how long the exit took. */
  terminate(): Promise<{ code: number | null; ms: number }>;
}

export async function startServerProcess(env: Record<string, string | undefined>): Promise<ServerProcess> {
  const port = env.PORT && env.PORT !== '0' ? Number(env.PORT) : await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...baseEnv({ LOG_LEVEL: 'info', ...env, PORT: String(port) }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  // A guard against a hung process, not a speed check: a cold start (tsx, PGlite's initdb) takes 6-20 s here, and
  // took over 60 s with the 2 cores shared by several test runs (load 15).
  const started = Date.now();
  const deadline = started + 120_000;
  while (!out.includes('Deckhand listening')) {
    if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`server did not start in ${Date.now() - started} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    proc,
    url,
    wsUrl: `ws://127.0.0.1:${port}/api/v1/collab`,
    output: () => out,
    async kill9() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
    },
    async terminate() {
      const started = Date.now();
      if (proc.exitCode !== null) return { code: proc.exitCode, ms: 0 };
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return { code, ms: Date.now() - started };
    },
  };
}
