/**
 * The practical limit for SSE fan-out: node:http only. `GET /sub/{channel}` opens an event stream;
 * `POST /publish/{channel}` → Redis PUBLISH → the subscriber connection receives it → one SSE frame
 * (`id`, `event`, `data`) is built once as a Buffer and written to every stream of the channel.
 */
import { createServer, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { channelOf, readBody } from './http-body.js';
import { serve } from './runtime.js';

const PREFIX = 'rawsse:';
const pub = new Redis(process.env.REDIS_URL!);
const sub = new Redis(process.env.REDIS_URL!);
const channels = new Map<string, Set<ServerResponse>>();
let nextId = 0;
await sub.psubscribe(`${PREFIX}*`);
sub.on('pmessage', (_pattern: string, channel: string, message: string) => {
  const streams = channels.get(channel.slice(PREFIX.length));
  if (!streams) return;
  const frame = Buffer.from(`id: ${++nextId}\nevent: job_progress\ndata: ${message}\n\n`);
  for (const res of streams) res.write(frame);
});

const http = createServer((req, res) => {
  if (req.method === 'GET') {
    const channel = channelOf(req.url, '/sub/');
    if (!channel) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.socket?.setNoDelay(true);
    res.write('retry: 2000\n\n');
    let set = channels.get(channel);
    if (!set) {
      set = new Set();
      channels.set(channel, set);
    }
    set.add(res);
    res.on('close', () => set.delete(res));
    return;
  }
  const channel = channelOf(req.url, '/publish/');
  if (req.method !== 'POST' || !channel) return void res.writeHead(404).end();
  readBody(req).then(
    async (body) => {
      await pub.publish(PREFIX + channel, body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    },
    () => res.writeHead(400).end(),
  );
});
http.keepAliveTimeout = 60_000;

await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const address = http.address();
serve({
  port: typeof address === 'object' && address ? address.port : 0,
  close: async () => {
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    pub.disconnect();
    sub.disconnect();
  },
});
