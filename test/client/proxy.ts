/**
 * A TCP proxy in front of a test server, to break the network the way the real world does: `dropAll()` cuts every
 * open connection (a Wi-Fi drop, a load balancer restart), `blocked` cuts new ones (still offline), and
 * `refuseWebSockets` answers every WebSocket upgrade with 403 while plain HTTP (SSE) passes (a proxy that does not
 * speak WebSocket).
 */
import net from 'node:net';

export interface TestProxy {
  url: string;
  refuseWebSockets: boolean;
  /** New connections are cut at once (the server is unreachable). */
  blocked: boolean;
  /** Open connections, WebSocket upgrades included. */
  readonly connections: number;
  dropAll(): void;
  close(): Promise<void>;
}

const HEADER_END = '\r\n\r\n';

export async function startProxy(targetUrl: string): Promise<TestProxy> {
  const target = new URL(targetUrl);
  const clients = new Set<net.Socket>();
  const upstreams = new Set<net.Socket>();
  const track = (set: Set<net.Socket>, socket: net.Socket) => {
    set.add(socket);
    socket.on('close', () => set.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const proxy: TestProxy = {
    url: '',
    refuseWebSockets: false,
    blocked: false,
    get connections() {
      return clients.size;
    },
    dropAll() {
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
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return proxy;
}
