/**
 * An attacker's connection to one document: raw Hocuspocus frames (auth, then any Yjs update it likes), and what
 * the server answered (stateless messages, SyncStatus acks, the close code). Also the tools to judge the outcome:
 * a reference document built from what honest clients wrote, and the document as a fresh instance loads it.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { openClient, waitFor, waitSynced, type CollabClient } from './collab-client.js';
import { authFrame, frame, MessageType, rawClient, syncFrame, type RawClient } from './hocuspocus-frames.js';
import { mintToken, startServer } from './server.js';

export interface ServerMessage {
  type?: string;
  error_code?: string;
  message?: string;
  details?: unknown;
}

export interface RawWriter {
  raw: RawClient;
  /** Sends a Yjs update as an Update (2) or SyncStep2 (1) message. */
  send(update: Uint8Array, subType?: 1 | 2): void;
  stateless: ServerMessage[];
  /** SyncStatus messages: true = applied. */
  acks: boolean[];
  /** Reasons of the server's Close messages for the document (the document connection was closed). */
  closes: string[];
  /** Reasons of authentication refusals (after the first authentication). */
  denials: string[];
  /** Sends a stateless message (e.g. a lock request, whose answer shows every earlier frame was handled). */
  sendStateless(payload: string): void;
  /** Authenticates the document again (after a close). */
  sendAuth(token: string): void;
  /** Waits until `predicate` holds (reading what arrived), or fails. */
  until(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Waits until the server answered `count` updates in total (ack or error), or the socket closed. */
  answered(count: number, timeoutMs?: number): Promise<void>;
}

export async function openRawWriter(wsUrl: string, presentationId: string, token: string): Promise<RawWriter> {
  const name = `presentation:${presentationId}`;
  const raw = await rawClient(wsUrl);
  const stateless: ServerMessage[] = [];
  const acks: boolean[] = [];
  const closes: string[] = [];
  const denials: string[] = [];
  let authenticated = false;
  let closed = false;
  void raw.closed.then(() => (closed = true));
  let seen = 0;
  const read = () => {
    for (; seen < raw.received.length; seen++) {
      const d = decoding.createDecoder(raw.received[seen]!);
      decoding.readVarString(d);
      const type = decoding.readVarUint(d);
      if (type === MessageType.Auth) {
        const kind = decoding.readVarUint(d);
        if (kind === 2) authenticated = true;
        else if (kind === 1) denials.push(decoding.readVarString(d));
      } else if (type === MessageType.Close) closes.push(decoding.readVarString(d));
      else if (type === MessageType.Stateless) {
        const payload = decoding.readVarString(d);
        try {
          stateless.push(JSON.parse(payload) as ServerMessage);
        } catch {
          stateless.push({ message: payload });
        }
      } else if (type === MessageType.SyncStatus) acks.push(decoding.readVarInt(d) === 1);
    }
  };
  raw.send(authFrame(name, token));
  await waitFor(() => (read(), authenticated || closed), 5000, 'raw writer authenticated');
  if (!authenticated) throw new Error('raw writer was refused');
  return {
    raw,
    stateless,
    acks,
    closes,
    denials,
    send: (update, subType = 2) => raw.send(syncFrame(name, subType, update)),
    sendStateless: (payload) => raw.send(frame(name, MessageType.Stateless, (e) => encoding.writeVarString(e, payload))),
    sendAuth: (t) => raw.send(authFrame(name, t)),
    until: (predicate, what, timeoutMs = 5000) => waitFor(() => (read(), predicate()), timeoutMs, what),
    answered: (count, timeoutMs = 5000) => waitFor(() => (read(), closed || acks.length >= count), timeoutMs, `${count} answers`),
  };
}

/** The update an edit makes on a copy of `base` (what a client that synced `base` would send). */
export function editOf(base: Y.Doc, edit: (doc: Y.Doc) => void): Uint8Array {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(base));
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  edit(doc);
  doc.destroy();
  return Y.mergeUpdates(updates);
}

/** Records the updates of a client's own transactions (not those the provider applied from the server). */
export function recordLocal(client: CollabClient): Uint8Array[] {
  const log: Uint8Array[] = [];
  client.doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== client.provider) log.push(update);
  });
  return log;
}

/** The document that the honest clients' own updates alone produce. */
export function referenceOf(...logs: Uint8Array[][]): Y.Doc {
  const doc = new Y.Doc();
  for (const log of logs) for (const update of log) Y.applyUpdate(doc, update);
  return doc;
}

/**
 * The document as a new instance on the same database loads it (snapshot plus log rows, through the server's own
 * load path), read by a fresh provider with an admin token.
 */
export async function reloaded(databaseUrl: string, presentationId: string): Promise<Y.Doc> {
  const fresh = await startServer({ DATABASE_URL: databaseUrl, AUTO_CREATE_PRESENTATIONS: 'false' });
  const client = openClient({ url: fresh.wsUrl, presentationId, token: mintToken('auditor', { scope: 'admin' }) });
  try {
    await waitSynced(client);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(client.doc));
    return doc;
  } finally {
    client.destroy();
    await fresh.close();
  }
}

export const errorsOf = (messages: readonly unknown[], code: string) =>
  messages.filter((m) => (m as ServerMessage | null)?.error_code === code) as ServerMessage[];
