/**
 * A tiny TCP load balancer for tests: each new connection goes to the next backend that accepts it, so killing one
 * instance sends reconnecting clients to the other, as a real load balancer would.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface Balancer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startBalancer(backendPorts: number[]): Promise<Balancer> {
  let next = 0;
  const sockets = new Set<Socket>();
  const connect = (client: Socket, attempt: number) => {
    if (attempt >= backendPorts.length) {
      client.destroy();
      return;
    }
    const port = backendPorts[next++ % backendPorts.length] as number;
    const upstream = createConnection({ port, host: '127.0.0.1' });
    sockets.add(upstream);
    upstream.once('connect', () => {
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.once('error', () => {
      if (!upstream.readyState.startsWith('open') && client.readable && !client.destroyed && upstream.bytesRead === 0 && upstream.bytesWritten === 0) {
        sockets.delete(upstream);
        connect(client, attempt + 1);
      } else client.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
  };
  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    connect(client, 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
