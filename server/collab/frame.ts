/**
 * A cheap check of a Hocuspocus frame's header before the frame reaches Hocuspocus: the document address must be a
 * readable UTF-8 string of sane length and the message type one a client may send. Refusing garbage here keeps it
 * out of Hocuspocus' parsers (which log every failure to stderr) and gives the sender a clear close reason.
 */
import * as decoding from 'lib0/decoding';

/** Sync, Awareness, Auth, QueryAwareness, SyncReply, Stateless, Close, Ping, Pong. BroadcastStateless (6) is server-only. */
const CLIENT_MESSAGE_TYPES = new Set([0, 1, 2, 3, 4, 5, 7, 9, 10]);
/** `presentation:{id}` (≤ 141 chars) plus an optional `\0sessionId` suffix. */
const MAX_ADDRESS_LENGTH = 512;

/** The frame's document name (its address without a `\0sessionId` suffix), or why the frame is refused. */
export function readFrameHeader(bytes: Uint8Array): { documentName: string } | { problem: string } {
  try {
    const decoder = decoding.createDecoder(bytes);
    const addressLength = decoding.peekVarUint(decoder);
    if (addressLength === 0 || addressLength > MAX_ADDRESS_LENGTH) return { problem: 'bad document address' };
    const address = decoding.readVarString(decoder);
    const type = decoding.readVarUint(decoder);
    if (!CLIENT_MESSAGE_TYPES.has(type)) return { problem: `message type ${type} is not allowed` };
    const separator = address.indexOf('\0');
    return { documentName: separator === -1 ? address : address.slice(0, separator) };
  } catch {
    return { problem: 'unreadable frame header' };
  }
}
