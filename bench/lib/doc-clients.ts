/**
 * Document clients for the load generator.
 *
 * - Lean protocol clients (`leanClient`): the Hocuspocus protocol (Deckhand, Hocuspocus) or the y-websocket protocol
 *   over `ws`, speaking exactly what the real providers speak on the wire (auth token, SyncStep1, the SyncStep2
 *   answer, updates), but readers do not apply what they receive to a Y.Doc: they only look for the timestamps in
 *   it. That keeps one generator core able to drive thousands of deliveries per second. The server cannot tell.
 * - Real providers (`providerClient`): @hocuspocus/provider or y-websocket's WebsocketProvider with a Y.Doc each,
 *   for the scenarios where client behaviour matters more than generator headroom (fan-out latency at 20 updates/s,
 *   idle memory).
 *
 * Writers put `[t=<performance.now() ms>]` into the document (typed into their own slide's body), so a reader finds
 * the send time of every update it receives in the update's bytes (Yjs encodes strings verbatim).
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { insertSlide, slideText } from '../../shared/presentation.js';
import { deferred } from './schedule.js';

export type Protocol = 'hocuspocus' | 'y-websocket';

const SYNC = 0;
const AWARENESS = 1;
const AUTH = 2;
const QUERY_AWARENESS = 3;
const SYNC_REPLY = 4;
const SYNC_STATUS = 8;
const STEP1 = 0;
const STEP2 = 1;
const UPDATE = 2;
const EMPTY_UPDATE = new Uint8Array([0, 0]);

const OPEN = 0x5b; // '['
const T = 0x74; // 't'
const EQ = 0x3d; // '='
const CLOSE = 0x5d; // ']'

/** Calls `found` with every `[t=…]` timestamp in `bytes`. */
export function scanTimestamps(bytes: Uint8Array, found: (sentAt: number) => void): void {
  const n = bytes.length - 3;
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== OPEN || bytes[i + 1] !== T || bytes[i + 2] !== EQ) continue;
    let value = 0;
    let scale = 0;
    let j = i + 3;
    for (; j < bytes.length; j++) {
      const c = bytes[j]!;
      if (c === CLOSE) break;
      if (c === 0x2e) scale = 1;
      else if (c >= 0x30 && c <= 0x39) {
        value = value * 10 + (c - 0x30);
        if (scale) scale *= 10;
      } else break;
    }
    if (bytes[j] === CLOSE) found(scale ? value / scale : value);
    i = j;
  }
}

export function marker(now = performance.now()): string {
  return `[t=${now.toFixed(3)}]`;
}

export interface DocClientOptions {
  protocol: Protocol;
  /** ws://host:port/path for Hocuspocus (the document travels in each message); base URL for y-websocket. */
  url: string;
  docName: string;
  token?: string;
  /** A writer keeps a local Y.Doc holding only its own slide and edits; readers keep none. */
  writer?: boolean;
  writerId?: string;
}

export interface DocClient {
  readonly synced: Promise<void>;
  /** Remote updates (the raw Yjs update bytes) and when they arrived. */
  onUpdate: ((update: Uint8Array, at: number) => void) | undefined;
  /** Hocuspocus SyncStatus (the server's ack of one of our updates, in order). */
  onAck: ((ok: boolean, at: number) => void) | undefined;
  /** SyncStatus messages received so far (the first answers our handshake's SyncStep2). */
  readonly acks: number;
  /** Types `text` into the writer's slide and sends the update; returns its size in bytes. */
  type(text: string): number;
  /** Sends a raw Yjs update (e.g. a large initial document). */
  sendUpdate(update: Uint8Array): void;
  readonly bufferedAmount: number;
  /** How the server closed the socket ("code reason"), or null while it is open (or we closed it). */
  readonly closedBy: string | null;
  close(): void;
}

/** A lean protocol client (see the file comment). */
export function leanClient(options: DocClientOptions): DocClient {
  const hp = options.protocol === 'hocuspocus';
  const url = hp ? options.url : `${options.url}/${encodeURIComponent(options.docName)}`;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const address = options.docName;
  const doc = options.writer ? new Y.Doc() : null;
  let body: Y.Text | null = null;
  let pending: Uint8Array | null = null;
  if (doc) {
    const slide = insertSlide(doc, { id: options.writerId ?? `w${doc.clientID}`, title: 'bench' });
    body = slideText(slide, 'body');
    // The slide itself reaches the server in our answer to its SyncStep1; later edits go out one update each.
    doc.on('update', (u: Uint8Array) => (pending = u));
    pending = null;
  }
  const { promise: synced, resolve: resolveSynced, reject: rejectSynced } = deferred();
  let keepalive: NodeJS.Timeout | undefined;
  let closing = false;
  let closedBy: string | null = null;
  let acks = 0;

  const frame = (write: (e: encoding.Encoder) => void): Uint8Array => {
    const e = encoding.createEncoder();
    if (hp) encoding.writeVarString(e, address);
    write(e);
    return encoding.toUint8Array(e);
  };
  const sendSync = (step: number, data: Uint8Array) =>
    ws.send(
      frame((e) => {
        encoding.writeVarUint(e, SYNC);
        encoding.writeVarUint(e, step);
        encoding.writeVarUint8Array(e, data);
      }),
    );

  const client: DocClient = {
    synced,
    onUpdate: undefined,
    onAck: undefined,
    get acks() {
      return acks;
    },
    type(text: string) {
      if (!body) throw new Error('not a writer');
      body.insert(0, text);
      const update = pending!;
      pending = null;
      sendSync(UPDATE, update);
      return update.byteLength;
    },
    sendUpdate(update: Uint8Array) {
      sendSync(UPDATE, update);
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    get closedBy() {
      return closedBy;
    },
    close() {
      clearInterval(keepalive);
      closing = true;
      ws.terminate();
      doc?.destroy();
    },
  };

  ws.on('open', () => {
    if (hp) {
      ws.send(
        frame((e) => {
          encoding.writeVarUint(e, AUTH);
          encoding.writeVarUint(e, 0); // Token
          encoding.writeVarString(e, options.token ?? '');
        }),
      );
      // The server closes sockets silent for 60 s; real providers renew awareness every 15 s.
      keepalive = setInterval(() => ws.send(frame((e) => encoding.writeVarUint(e, QUERY_AWARENESS))), 20_000);
      keepalive.unref();
    }
    sendSync(STEP1, doc ? Y.encodeStateVector(doc) : new Uint8Array([0]));
  });
  ws.on('message', (data: Buffer) => {
    const at = performance.now();
    const d = decoding.createDecoder(data);
    if (hp) decoding.readVarString(d);
    const type = decoding.readVarUint(d);
    if (type === SYNC || type === SYNC_REPLY) {
      const step = decoding.readVarUint(d);
      if (step === UPDATE) {
        client.onUpdate?.(decoding.readVarUint8Array(d), at);
      } else if (step === STEP2) {
        resolveSynced();
      } else if (step === STEP1) {
        const sv = decoding.readVarUint8Array(d);
        sendSync(STEP2, doc ? Y.encodeStateAsUpdate(doc, sv) : EMPTY_UPDATE);
      }
    } else if (type === SYNC_STATUS) {
      acks++;
      client.onAck?.(decoding.readVarUint(d) === 1, at);
    } else if (type === AUTH) {
      const sub = decoding.readVarUint(d);
      if (sub === 1) rejectSynced(new Error(`permission denied: ${decoding.readVarString(d)}`));
    } else if (type === AWARENESS) {
      // ignored
    }
  });
  ws.on('close', (code, reason) => {
    clearInterval(keepalive);
    if (!closing) closedBy = `${code} ${reason.toString()}`.trim();
    rejectSynced(new Error(`closed ${code} ${reason.toString()}`));
  });
  ws.on('error', (err) => rejectSynced(err));
  return client;
}

export interface ProviderClient {
  doc: Y.Doc;
  synced: Promise<void>;
  /** Remote updates applied to the doc. */
  onUpdate: ((update: Uint8Array, at: number) => void) | undefined;
  type(text: string): void;
  sendUpdate(update: Uint8Array): void;
  destroy(): void;
}

/** A real provider: @hocuspocus/provider (Hocuspocus protocol) or y-websocket's WebsocketProvider. */
export function providerClient(options: DocClientOptions): ProviderClient {
  const doc = new Y.Doc();
  const { promise: synced, resolve: resolveSynced, reject: rejectSynced } = deferred();
  let destroy: () => void;
  let remoteOrigin: unknown;
  if (options.protocol === 'hocuspocus') {
    const socket = new HocuspocusProviderWebsocket({ url: options.url, WebSocketPolyfill: WebSocket });
    const provider = new HocuspocusProvider({
      websocketProvider: socket,
      name: options.docName,
      document: doc,
      token: options.token ?? '',
      onSynced: () => resolveSynced(),
      onAuthenticationFailed: ({ reason }) => rejectSynced(new Error(`authentication failed: ${reason}`)),
    });
    provider.attach();
    remoteOrigin = provider;
    destroy = () => {
      provider.destroy();
      socket.destroy();
    };
  } else {
    const provider = new WebsocketProvider(options.url, options.docName, doc, {
      WebSocketPolyfill: WebSocket as never,
      disableBc: true,
    });
    provider.on('sync', (ok: boolean) => ok && resolveSynced());
    remoteOrigin = provider;
    destroy = () => provider.destroy();
  }
  let body: Y.Text | null = null;
  const client: ProviderClient = {
    doc,
    synced,
    onUpdate: undefined,
    type(text: string) {
      if (!body) body = slideText(insertSlide(doc, { id: options.writerId ?? `w${doc.clientID}`, title: 'bench' }), 'body');
      body.insert(0, text);
    },
    sendUpdate(update: Uint8Array) {
      Y.applyUpdate(doc, update);
    },
    destroy: () => destroy(),
  };
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === remoteOrigin) client.onUpdate?.(update, performance.now());
  });
  return client;
}
