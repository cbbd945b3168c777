/**
 * A TCP proxy in front of a test server, to break the network the way the real world does: `dropAll()` cuts every
 * open connection (a Wi-Fi drop, a load balancer restart), `blocked` cuts new ones (still offline), and
 * `refuseWebSockets` answers every WebSocket upgrade with 403 while plain HTTP (SSE) passes (a proxy that does not
 * speak WebSocket). `holdUpstream` keeps what clients send after their request head (WebSocket frames) from reaching
 * the server until `releaseUpstream()`: a slow path to the server, with the handshake already answered.
 */
import net from 'node:net';

export interface TestProxy {
  url: string;
  refuseWebSockets: boolean;
  /** New connections are cut at once (the server is unreachable). */
  blocked: boolean;
  /** Client bytes after the request head are held back from the server (see releaseUpstream). */
  holdUpstream: boolean;
  /** Client bytes held back now. */
  readonly heldBytes: number;
  /** Open connections, WebSocket upgrades included. */
  readonly connections: number;
  /** Stops holding, and sends what was held, in order. */
  releaseUpstream(): void;
  dropAll(): void;
  close(): Promise<void>;
}

const HEADER_END = '\r\n\r\n';

export async function startProxy(targetUrl: string): Promise<TestProxy> {
  const target = new URL(targetUrl);
  const clients = new Set<net.Socket>();
  const upstreams = new Set<net.Socket>();
  let held: { upstream: net.Socket; chunk: Buffer }[] = [];
  const track = (set: Set<net.Socket>, socket: net.Socket) => {
    set.add(socket);
    socket.on('close', () => set.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const proxy: TestProxy = {
    url: '',
    refuseWebSockets: false,
    blocked: false,
    holdUpstream: false,
    get heldBytes() {
      return held.reduce((sum, h) => sum + h.chunk.length, 0);
    },
    get connections() {
      return clients.size;
    },
    releaseUpstream() {
      proxy.holdUpstream = false;
      const pending = held;
      held = [];
      for (const { upstream, chunk } of pending) if (!upstream.destroyed) upstream.write(chunk);
    },
    dropAll() {
      held = [];
      for (const socket of [...clients, ...upstreams]) socket.destroy();
    },
    close: () => new Promise((resolve) => (proxy.dropAll(), server.close(() => resolve()))),
  };
  const server = net.createServer((client) => {
    if (proxy.blocked) {
      client.destroy();
      return;
    }
    track(clients, client);
    let head = '';
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      head += chunk.toString('latin1');
      if (!head.includes(HEADER_END)) return;
      client.off('data', onData);
      if (proxy.refuseWebSockets && /^upgrade:\s*websocket/im.test(head.slice(0, head.indexOf(HEADER_END)))) {
        client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
        return;
      }
      const upstream = net.connect(Number(target.port), target.hostname);
      track(upstreams, upstream);
      upstream.write(Buffer.concat(chunks));
      client.on('data', (chunk: Buffer) => {
        if (proxy.holdUpstream || held.length > 0) held.push({ upstream, chunk });
        else if (!upstream.write(chunk)) {
          client.pause();
          upstream.once('drain', () => client.resume());
        }
      });
      client.on('end', () => upstream.end());
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return proxy;
}
