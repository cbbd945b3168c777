/**
 * The HTTP pipeline's CPU per request, two builds side by side: `[BASE=/path/to/other/checkout] [ROUNDS=9] [N=6000]
 * [ORIGIN=https://app.example] npx tsx bench/tools/pipeline-probe.ts`. Starts the bench's Postgres and Redis and, in
 * this process, the real `build(config)` app of this checkout (as bench/targets/deckhand.ts, bus on Redis) plus
 * `POST /probe/:id` (./probe-route.ts: the progress route's hooks, schemas and headers, a fixed answer), the same of
 * BASE's checkout when given (its own database), and a bare `node:http` handler as the peers' (parse the JSON body,
 * answer JSON). A light client in this process sends each N requests over 16 keep-alive connections, 8 pipelined
 * at a time (one prebuilt buffer per batch), and the process's CPU time per request is taken per round; the targets
 * take turns round after round, so a busy machine weighs on them alike. Prints every round, min, median, and the median of each round's ratio to this checkout's figure.
 * Compare targets within one run; the client's own share (a write per 8 requests, reading the answers) is in all.
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { createDatabase, startBenchPostgres, startBenchRedis } from '../lib/infra.js';
import { TARGETS } from '../lib/targets.js';
import { BENCH_SECRET, mintToken } from '../lib/tokens.js';

const N = Number(process.env.N ?? 6000);
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const CONNECTIONS = 16;
const PIPELINE = 8;

const [pg, redis] = await Promise.all([startBenchPostgres(), startBenchRedis()]);
const servers: { name: string; port: number; path: string; close: () => Promise<unknown> }[] = [];
try {
  process.env.NODE_ENV = 'production';
  const deckhand = async (name: string, root: string) => {
    const dbUrl = await createDatabase(pg.url, `pipeline_${name}`);
    Object.assign(process.env, TARGETS['deckhand-ws']!.env({ dbUrl, redisUrl: redis.url }));
    const url = (rel: string) => pathToFileURL(`${root}/${rel}`).href;
    const { build } = (await import(url('server/app.ts'))) as typeof import('../../server/app.js');
    const { loadConfig } = (await import(url('server/config.ts'))) as typeof import('../../server/config.js');
    const { addProbeRoute } = (await import(url('bench/tools/probe-route.ts'))) as typeof import('./probe-route.js');
    const app: FastifyInstance = await build(loadConfig(process.env), { logger: false });
    addProbeRoute(app);
    await app.listen({ port: 0, host: '127.0.0.1' });
    servers.push({ name, port: portOf(app.server), path: '/probe/job-1', close: () => app.close() });
  };
  await deckhand('this', process.cwd());
  if (process.env.BASE) await deckhand('base', process.env.BASE);
  const bare = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message?: string };
      const answer = JSON.stringify({ ok: true, message: body.message ?? null });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  servers.push({ name: 'bare node:http', port: portOf(bare), path: '/publish/job-1', close: () => new Promise((r) => bare.close(r)) });

  const results = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  for (let round = -1; round < ROUNDS; round++) {
    for (const server of servers) {
      const before = process.cpuUsage();
      const statuses = await load(server.port, server.path, N);
      const used = process.cpuUsage(before);
      if (statuses.size !== 1 || !statuses.has('200')) throw new Error(`${server.name} answered ${JSON.stringify([...statuses])}`);
      if (round >= 0) results.get(server.name)!.push((used.user + used.system) / N);
    }
  }
  // Each round's ratio to this checkout's figure of the same round (targets measured one right after the other).
  const mine = results.get('this')!;
  const ratioMedian = (values: number[]) => {
    const ratios = values.map((v, i) => v / mine[i]!).sort((a, b) => a - b);
    return ratios[Math.floor(ratios.length / 2)]!;
  };
  for (const [name, values] of results) {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(
      `${name.padEnd(16)} µs per request: min ${sorted[0]!.toFixed(1)}, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)}, ` +
        `median ratio to this ${ratioMedian(values).toFixed(2)}  (${values.map((v) => v.toFixed(0)).join(' ')})`,
    );
  }
} finally {
  for (const s of servers) await s.close().catch(() => {});
  await redis.stop();
  pg.stop();
}
process.exit(0);

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** Sends `total` POSTs to `path` over CONNECTIONS sockets, PIPELINE at a time each; the answers' status codes. */
async function load(port: number, path: string, total: number): Promise<Map<string, number>> {
  const body = JSON.stringify({ status: 'processing', progress: 0.5, current_step: 'rendering', message: '[t=0]' });
  const origin = process.env.ORIGIN ? `origin: ${process.env.ORIGIN}\r\n` : '';
  const one =
    `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${mintToken('bench-worker', 'jobs:write', BENCH_SECRET)}\r\n` +
    `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${origin}\r\n${body}`;
  const batch = Buffer.from(one.repeat(PIPELINE));
  const statuses = new Map<string, number>();
  const perConnection = Math.ceil(total / CONNECTIONS / PIPELINE);
  await Promise.all(
    Array.from(
      { length: CONNECTIONS },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1');
          let batches = 0;
          let answered = 0;
          let tail = '';
          socket.on('error', (err) => reject(new Error(`port ${port} after ${batches} batches: ${err.message}`)));
          socket.on('data', (chunk: Buffer) => {
            const text = tail + chunk.toString('latin1');
            for (let at = text.indexOf('HTTP/1.1 '); at >= 0 && at + 12 <= text.length; at = text.indexOf('HTTP/1.1 ', at + 9)) {
              const status = text.slice(at + 9, at + 12);
              statuses.set(status, (statuses.get(status) ?? 0) + 1);
              answered++;
            }
            tail = text.slice(-11);
            if (answered < PIPELINE) return;
            answered -= PIPELINE;
            if (++batches === perConnection) {
              socket.end();
              resolve();
            } else socket.write(batch);
          });
          socket.write(batch);
        }),
    ),
  );
  return statuses;
}
