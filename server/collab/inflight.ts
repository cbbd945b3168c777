/**
 * Bytes in flight per /collab socket. Hocuspocus queues an authenticated document connection's frames without bound
 * while each waits for the one before it (which waits while its socket's updates awaiting their acks pass the
 * flow-control bound, see ./write-path.ts). The route asks `admit`
 * for every frame of an authenticated document; a socket whose frames waiting to be handled would pass the limit is
 * closed (CLOSE_CODES.BACKLOG_EXCEEDED: reconnect after a pause; the provider then re-sends what was not
 * acknowledged). A frame stops counting once Hocuspocus has handled it (afterHandleMessage, see `handled`), or when its document
 * connection closes (its queue is dropped). Frames before authentication are bounded by Hocuspocus itself.
 */
import type { connectedPayload, Extension, onDisconnectPayload } from '@hocuspocus/server';

interface SocketFrames {
  bytes: number;
  /** document name → its frames waiting to be handled */
  documents: Map<string, Set<Uint8Array>>;
}

const socketKeyOf = (context: unknown): string | undefined => {
  const key = (context as { socketKey?: unknown } | undefined)?.socketKey;
  return typeof key === 'string' ? key : undefined;
};

export class InflightBudget implements Extension {
  extensionName = 'deckhand-inflight';
  private readonly sockets = new Map<string, SocketFrames>();
  private readonly owners = new WeakMap<Uint8Array, { socket: SocketFrames; documentName: string }>();
  readonly stats = { closed: 0 };

  constructor(private readonly maxBytes: number) {}

  /** Counts a frame for an authenticated document of the socket; false when the socket is over its limit. */
  admit(socketKey: string, documentName: string, frame: Uint8Array): boolean {
    const socket = this.sockets.get(socketKey);
    const frames = socket?.documents.get(documentName);
    if (!socket || !frames) return true; // not authenticated (yet): Hocuspocus bounds what it queues
    if (socket.bytes + frame.byteLength > this.maxBytes) {
      this.stats.closed++;
      return false;
    }
    socket.bytes += frame.byteLength;
    frames.add(frame);
    this.owners.set(frame, { socket, documentName });
    return true;
  }

  /** The socket closed. */
  release(socketKey: string): void {
    this.sockets.delete(socketKey);
  }

  /** In flight on a socket (for tests and stats). */
  bytesOf(socketKey: string): number {
    return this.sockets.get(socketKey)?.bytes ?? 0;
  }

  async connected({ context, documentName }: connectedPayload): Promise<void> {
    const key = socketKeyOf(context);
    if (!key) return;
    let socket = this.sockets.get(key);
    if (!socket) {
      socket = { bytes: 0, documents: new Map() };
      this.sockets.set(key, socket);
    }
    if (!socket.documents.has(documentName)) socket.documents.set(documentName, new Set());
  }

  /** Hocuspocus has handled the frame (./message-hooks.ts: afterHandleMessage): it stops counting. */
  handled(update: Uint8Array): void {
    const owner = this.owners.get(update);
    if (!owner) return;
    this.owners.delete(update);
    if (owner.socket.documents.get(owner.documentName)?.delete(update)) owner.socket.bytes -= update.byteLength;
  }

  async onDisconnect({ context, documentName }: onDisconnectPayload): Promise<void> {
    const key = socketKeyOf(context);
    const socket = key ? this.sockets.get(key) : undefined;
    const frames = socket?.documents.get(documentName);
    if (!socket || !frames) return;
    for (const frame of frames) socket.bytes -= frame.byteLength;
    socket.documents.delete(documentName);
    if (socket.documents.size === 0 && key) this.sockets.delete(key);
  }
}
