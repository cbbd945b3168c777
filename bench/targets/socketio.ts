/**
 * Socket.IO 4 peer for event fan-out: `POST /publish/{room}` (JSON body) → `io.to(room).emit('job_progress', body)`.
 * Subscribers join the room of their handshake query (`?room=`). With BENCH_REDIS_ADAPTER=1 the
 * @socket.io/redis-adapter carries every emit through Redis (PUBLISH, then each instance — here one — fans out to its
 * own sockets), which is what a multi-instance Socket.IO deployment does. Without it, the emit stays in process.
 * perMessageDeflate off, logging off.
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { channelOf, readBody } from './http-body.js';
import { serve } from './runtime.js';

const withRedis = process.env.BENCH_REDIS_ADAPTER === '1';
const http = createServer();
const io = new Server(http, {
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  cors: { origin: '*' },
});
let pub: Redis | undefined;
let sub: Redis | undefined;
if (withRedis) {
  pub = new Redis(process.env.REDIS_URL!);
  sub = pub.duplicate();
  io.adapter(createAdapter(pub, sub));
}

io.on('connection', (socket) => {
  const room = socket.handshake.query.room;
  if (typeof room === 'string') void socket.join(room);
});

// Socket.IO answers its own path; everything else is ours.
http.on('request', (req, res) => {
  if (req.url?.startsWith('/socket.io')) return;
  const room = channelOf(req.url, '/publish/');
  if (req.method !== 'POST' || !room) {
    res.writeHead(404).end();
    return;
  }
  readBody(req).then(
    (text) => {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        res.writeHead(400).end();
        return;
      }
      io.to(room).emit('job_progress', body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    },
    () => res.writeHead(400).end(),
  );
});

await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const address = http.address();
serve({
  port: typeof address === 'object' && address ? address.port : 0,
  close: async () => {
    io.disconnectSockets(true);
    await new Promise<void>((resolve) => io.close(() => resolve()));
    pub?.disconnect();
    sub?.disconnect();
  },
});
