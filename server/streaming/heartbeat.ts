/**
 * The server's pings on the JSON sockets (WS_PING_INTERVAL_MS, default 30 s; 0: off): one timer for every socket of
 * the app. Each round pings every socket and drops (terminates) each one that did not answer the previous round's ping
 * with a pong. Browsers and `ws` answer pings by themselves (the WebSocket protocol), so what is dropped is a peer
 * that is gone without a close (a laptop closed, a half-open TCP connection behind a proxy): within two intervals,
 * its connection slot and subscriptions are freed. Per socket this keeps one map entry; the pong listener is shared.
 */
import type { WebSocket } from 'ws';
import type { ConnectionMeter } from '../metrics.js';

export class SocketHeartbeat {
  /** Every socket, with its meter, and whether it answered since the last round. */
  private readonly sockets = new Map<WebSocket, { meter: ConnectionMeter; answered: boolean }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly onPong: (this: WebSocket) => void;

  constructor(private readonly intervalMs: number) {
    const sockets = this.sockets;
    this.onPong = function onPong(this: WebSocket) {
      const entry = sockets.get(this);
      if (entry) entry.answered = true;
    };
  }

  get size(): number {
    return this.sockets.size;
  }

  add(socket: WebSocket, meter: ConnectionMeter): void {
    if (this.intervalMs <= 0) return;
    this.sockets.set(socket, { meter, answered: true });
    socket.on('pong', this.onPong);
    this.timer ??= setInterval(() => this.round(), this.intervalMs).unref();
  }

  /** The socket closed (its JsonSocket tells: no close listener of our own per socket). */
  remove(socket: WebSocket): void {
    if (!this.sockets.delete(socket)) return;
    if (this.sockets.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private round(): void {
    for (const [socket, entry] of this.sockets) {
      if (!entry.answered) {
        this.sockets.delete(socket);
        entry.meter.disconnected('unresponsive');
        socket.terminate();
        continue;
      }
      entry.answered = false;
      try {
        socket.ping();
      } catch {
        // Closing already: its close event removes it.
      }
    }
  }
}
