/** Raw Hocuspocus frames for fuzz and abuse tests: what a provider would send, or a mutation of it. */
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import WebSocket from 'ws';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import * as Y from 'yjs';

export const MessageType = { Sync: 0, Awareness: 1, Auth: 2, QueryAwareness: 3, Stateless: 5, Close: 7, SyncStatus: 8 } as const;

export function frame(documentName: string, type: number, write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, documentName);
  encoding.writeVarUint(e, type);
  write(e);
  return encoding.toUint8Array(e);
}

export const authFrame = (doc: string, token: string) =>
  frame(doc, MessageType.Auth, (e) => {
    encoding.writeVarUint(e, 0);
    encoding.writeVarString(e, token);
  });

/** Sync message: sub-type 0 = SyncStep1 (state vector), 1 = SyncStep2, 2 = Update. */
export const syncFrame = (doc: string, subType: number, payload: Uint8Array) =>
  frame(doc, MessageType.Sync, (e) => {
    encoding.writeVarUint(e, subType);
    encoding.writeVarUint8Array(e, payload);
  });

export const awarenessFrame = (doc: string, update: Uint8Array) => frame(doc, MessageType.Awareness, (e) => encoding.writeVarUint8Array(e, update));

/** An awareness update claiming `clientId` with `state`. */
export function awarenessUpdate(clientId: number, state: Record<string, unknown> | null, clock = 1): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = clientId;
  const awareness = new Awareness(doc);
  for (let i = 1; i < clock; i++) awareness.setLocalState({ tick: i });
  awareness.setLocalState(state);
  const update = encodeAwarenessUpdate(awareness, [clientId]);
  awareness.destroy();
  doc.destroy();
  return update;
}

/** The message type of a frame the server sent (after its document address). */
export function typeOf(data: Uint8Array): number {
  const d = decoding.createDecoder(data);
  decoding.readVarString(d);
  return decoding.readVarUint(d);
}

export interface RawClient {
  ws: WebSocket;
  received: Uint8Array[];
  closed: Promise<number>;
  send(data: Uint8Array): void;
}

export function rawClient(url: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const received: Uint8Array[] = [];
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.on('message', (d: Buffer) => received.push(new Uint8Array(d)));
    ws.on('error', () => {});
    ws.once('open', () =>
      resolve({
        ws,
        received,
        closed,
        send: (data) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(data);
        },
      }),
    );
    ws.once('error', reject);
  });
}
