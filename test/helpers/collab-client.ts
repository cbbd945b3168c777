/** Real @hocuspocus/provider clients over `ws`, with helpers to wait for sync, acks and convergence. */
import { HocuspocusProvider, HocuspocusProviderWebsocket, WebSocketStatus } from '@hocuspocus/provider';
import WebSocket from 'ws';
import * as Y from 'yjs';

/**
 * `ws` with an error listener of its own: the provider removes its listeners and then closes a socket that is still
 * connecting (when connect() is called during an attempt), and `ws` reports that as an 'error' event, which without
 * a listener becomes an uncaught exception. Browsers' WebSocket does not throw there.
 */
class QuietWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    this.on('error', () => {});
  }
}

export interface CollabClient {
  doc: Y.Doc;
  provider: HocuspocusProvider;
  socket: HocuspocusProviderWebsocket;
  /** Stateless messages the server sent (parsed JSON when possible). */
  stateless: unknown[];
  authFailures: string[];
  destroy(): void;
}

export interface ClientOptions {
  url: string;
  presentationId: string;
  token: string | (() => string) | (() => Promise<string>);
  doc?: Y.Doc;
  /** Reconnect quickly in tests. */
  delay?: number;
}

export function openClient(options: ClientOptions): CollabClient {
  const doc = options.doc ?? new Y.Doc();
  const socket = new HocuspocusProviderWebsocket({
    url: options.url,
    WebSocketPolyfill: QuietWebSocket,
    delay: options.delay ?? 100,
    minDelay: options.delay ?? 100,
    maxDelay: 1000,
    factor: 1.5,
  });
  const stateless: unknown[] = [];
  const authFailures: string[] = [];
  const provider = new HocuspocusProvider({
    websocketProvider: socket,
    name: `presentation:${options.presentationId}`,
    document: doc,
    token: options.token,
    onStateless: ({ payload }) => {
      try {
        stateless.push(JSON.parse(payload));
      } catch {
        stateless.push(payload);
      }
    },
    onAuthenticationFailed: ({ reason }) => authFailures.push(reason),
  });
  provider.attach();
  return {
    doc,
    provider,
    socket,
    stateless,
    authFailures,
    destroy() {
      provider.destroy();
      socket.destroy();
    },
  };
}

/**
 * Reconnects a client after `socket.disconnect()`. The provider's `connect()` returns at once while the status is
 * still `connected`, which it is until the close handshake of the disconnect completes, and leaves `shouldConnect`
 * false: the socket would then stay disconnected for good. Wait for that close first.
 */
export function reconnect(client: CollabClient): void {
  const { socket } = client;
  if (socket.status !== WebSocketStatus.Connected || socket.shouldConnect) {
    void socket.connect();
    return;
  }
  const onStatus = ({ status }: { status: WebSocketStatus }) => {
    if (status === WebSocketStatus.Connected) return;
    socket.off('status', onStatus);
    void socket.connect();
  };
  socket.on('status', onStatus);
}

export async function waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function waitSynced(client: CollabClient, timeoutMs = 10_000): Promise<void> {
  return waitFor(() => client.provider.isSynced, timeoutMs, 'synced');
}

/** Resolves once the server acknowledged every local change (SyncStatus). */
export function waitAcked(client: CollabClient, timeoutMs = 10_000): Promise<void> {
  return waitFor(() => client.provider.isSynced && !client.provider.hasUnsyncedChanges, timeoutMs, 'acks');
}

export function stateOf(doc: Y.Doc): string {
  return Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64');
}

/**
 * Plain JSON of the whole document, for equality checks independent of encoding: object keys sorted, since a Y.Map
 * lists its keys in the order this replica first saw them (a key set later, like a slide's `order` written when an
 * old document loads, comes last on one replica and first on another).
 */
export function jsonOf(doc: Y.Doc): string {
  const sorted = (_key: string, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value;
  return JSON.stringify(
    { meta: doc.getMap('meta').toJSON(), slides: doc.getArray('slides').toJSON(), comments: doc.getMap('comments').toJSON() },
    sorted,
  );
}
