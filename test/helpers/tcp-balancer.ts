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
    let piped = false;
    upstream.once('connect', () => {
      piped = true;
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', () => {});
    upstream.once('close', () => {
      sockets.delete(upstream);
      // A backend that refused the connection: try the next one; one that dropped it: drop the client.
      if (piped) client.destroy();
      else if (!client.destroyed) connect(client, attempt + 1);
    });
    client.once('close', () => upstream.destroy());
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
