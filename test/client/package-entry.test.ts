/**
 * The SDK as a package entry in plain Node (no tsx, no bundler): `deckhand/client` resolves to the compiled ESM in
 * dist/sdk (built by `npm install`'s prepare step; rebuilt here so the test sees the current sources) and follows a
 * job on a real server, with Node's own WebSocket where it has one (Node 22+) and with `ws` where it has none.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, ROOT, startServer, type TestServer } from '../helpers/server.js';
import { createJob, reportProgress } from './support.js';

const SCRIPT = `
// Node 20 has no global WebSocket; removing Node 22+'s shows the same case on any version.
if (process.env.DECKHAND_NO_GLOBAL_WEBSOCKET) delete globalThis.WebSocket;
const { createDeckhandClient } = await import('deckhand/client');
const resolved = import.meta.resolve('deckhand/client');
const client = createDeckhandClient({ url: process.env.DECKHAND_URL, token: process.env.DECKHAND_TOKEN });
const states = [];
const follower = client.followJob(process.env.DECKHAND_JOB, (event) => {
  states.push(event.data.progress);
  console.log(JSON.stringify({ state: event.data.progress }));
});
const done = await follower.done;
console.log(JSON.stringify({ resolved, globalWebSocket: typeof globalThis.WebSocket, states, status: done.status, transport: follower.transport }));
client.destroy();
`;

describe('SDK package entry in plain Node', () => {
  let server: TestServer;
  let scriptPath: string;

  beforeAll(async () => {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.client.json'], { cwd: ROOT, stdio: 'pipe' });
    // Inside the package, so that `deckhand/client` resolves as a self-reference through package.json's exports.
    const dir = join(ROOT, 'test', 'artifacts');
    mkdirSync(dir, { recursive: true });
    scriptPath = join(dir, 'sdk-entry.mjs');
    writeFileSync(scriptPath, SCRIPT);
    server = await startServer({ DATABASE_URL: await createTestDatabase('sdkentry') });
  });
  afterAll(async () => {
    await server?.close();
  });

  /** Runs the script in a fresh Node for job `job` (created and completed here) and returns its last line. */
  async function followJobInPlainNode(job: string, extraEnv: Record<string, string> = {}): Promise<Record<string, unknown>> {
    await createJob(server.url, job, 'pat');
    // No loader, no --conditions: what a Node application importing the package gets.
    const child = spawn(process.execPath, [scriptPath], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', DECKHAND_URL: server.url, DECKHAND_TOKEN: mintToken('pat'), DECKHAND_JOB: job, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines: Record<string, unknown>[] = [];
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const firstState = new Promise<void>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(JSON.parse(line) as Record<string, unknown>);
        if (lines.length === 1) resolve();
      });
    });
    await Promise.race([firstState, exited.then(() => Promise.reject(new Error(`the script exited early: ${stderr}`)))]);
    await reportProgress(server.url, job, { status: 'processing', progress: 0.5 });
    await reportProgress(server.url, job, { status: 'completed' });
    expect(await exited, stderr).toBe(0);
    const result = lines.at(-1)!;
    expect(String(result.resolved)).toMatch(/\/dist\/sdk\/client\/index\.js$/);
    expect(result).toMatchObject({ states: [0, 0.5, 1], status: 'completed', transport: 'websocket' });
    return result;
  }

  it("imports deckhand/client as compiled ESM and follows a job to completion with Node's WebSocket (ws on Node 20)", async () => {
    await followJobInPlainNode('entry-job');
  });

  it('follows a job over ws when Node has no global WebSocket', async () => {
    const result = await followJobInPlainNode('entry-job-ws', { DECKHAND_NO_GLOBAL_WEBSOCKET: '1' });
    expect(result.globalWebSocket).toBe('undefined');
  });
});
