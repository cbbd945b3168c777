/**
 * The practical limit for WebSocket fan-out: node:http + ws (perMessageDeflate off). `POST /publish/{channel}`
 * → Redis PUBLISH → the subscriber connection receives it → the payload is turned into one Buffer and sent to every
 * socket of the channel (`/sub/{channel}`). Same path as Deckhand's (HTTP → Redis → subscribers), nothing else:
 * no auth, no validation, no storage, no history.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';
import { channelOf, readBody } from './http-body.js';
import { serve } from './runtime.js';

const PREFIX = 'rawws:';
const pub = new Redis(process.env.REDIS_URL!);
const sub = new Redis(process.env.REDIS_URL!);
const channels = new Map<string, Set<WebSocket>>();
await sub.psubscribe(`${PREFIX}*`);
sub.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => {
  const sockets = channels.get(channel.toString('latin1').slice(PREFIX.length));
  if (!sockets) return;
  for (const ws of sockets) ws.send(message, { binary: false });
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const http = createServer((req, res) => {
  const channel = channelOf(req.url, '/publish/');
  if (req.method !== 'POST' || !channel) {
    res.writeHead(404).end();
    return;
  }
  readBody(req).then(
    async (body) => {
      await pub.publish(PREFIX + channel, body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    },
    () => res.writeHead(400).end(),
  );
});
http.on('upgrade', (req, socket, head) => {
  const channel = channelOf(req.url, '/sub/');
  if (!channel) return socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => {
    let set = channels.get(channel);
    if (!set) {
      set = new Set();
      channels.set(channel, set);
    }
    set.add(ws);
    ws.on('close', () => set.delete(ws));
    ws.on('error', () => {});
  });
});

await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const address = http.address();
serve({
  port: typeof address === 'object' && address ? address.port : 0,
  close: async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    pub.disconnect();
    sub.disconnect();
  },
});
