/**
 * A WebSocket text frame encoded once and written as is to every socket it goes to: the frame's header and payload in
 * one Buffer, so a delivery is one write of a shared Buffer on the connection's stream instead of ws framing it again
 * (a header allocated per socket, then a corked two-buffer write). Measured on this machine: ~3 µs less CPU per
 * delivery, about a fifth of the send side (docs/performance.md). The header is ws's own encoding (Sender.frame).
 *
 * Writing next to ws is safe when ws writes every frame whole and at once, which it does unless a frame is compressed
 * (permessage-deflate queues frames while one is deflated): `canWriteDirectly` says whether a socket negotiated no
 * extension. The JSON sockets never send Blobs, ws's other queued case.
 */
import type WebSocket from 'ws';
import * as ws from 'ws';

interface FrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
}

/**
 * ws's frame encoder (public in ws's code, not in its type declarations): a named export of ws's ES module entry. Not
 * `WebSocket.Sender`: the default export has it only once ws's CommonJS entry has run (some CommonJS package's
 * `require('ws')` before this module), an accident of import order.
 */
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };
const TEXT = 0x1;

export interface WireFrame {
  /** The whole frame (header and payload): what is written to a connection's stream. */
  readonly wire: Buffer;
  /** The payload alone (a view into `wire`), for a socket that ws must frame itself. */
  readonly payload: Buffer;
}

/** A final, unmasked text frame (server to client) carrying `payload`. */
export function textFrame(payload: Buffer): WireFrame {
  const wire = Buffer.concat(Sender.frame(payload, { fin: true, rsv1: false, opcode: TEXT, mask: false, readOnly: true }));
  return { wire, payload: wire.subarray(wire.length - payload.length) };
}

/** Whether frames may be written to this socket's stream directly (no extension, so ws never holds frames back). */
export function canWriteDirectly(socket: WebSocket): boolean {
  return socket.extensions === '';
}
