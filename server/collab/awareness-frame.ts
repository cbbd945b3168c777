/**
 * The client ids a connection's awareness frame carries states for. Hocuspocus 4.7 decodes an incoming awareness
 * update into a scratch `Awareness` and hands its states to `beforeHandleAwareness`; a new `Awareness` holds a local
 * state of its own (`{}` under its random client id), so that map has one id the client never sent. Read from the
 * frame, the ids the client did send tell it apart (./awareness.ts drops it: claiming it would cost the user a
 * client id claim per frame, and relaying it would show a stranger's empty state to everyone).
 */
import * as decoding from 'lib0/decoding';

const AWARENESS_MESSAGE = 1;

/** The client ids of an awareness frame (address, type 1, update), or null when the frame is not one. */
export function awarenessClientsOf(frame: Uint8Array): Set<number> | null {
  const clients = new Set<number>();
  try {
    const decoder = decoding.createDecoder(frame);
    const addressLength = decoding.readVarUint(decoder);
    decoder.pos += addressLength; // the address, not decoded (every frame of a socket passes here)
    if (decoding.readVarUint(decoder) !== AWARENESS_MESSAGE) return null;
    const update = decoding.createDecoder(decoding.readVarUint8Array(decoder));
    const count = decoding.readVarUint(update);
    for (let i = 0; i < count; i++) {
      clients.add(decoding.readVarUint(update));
      decoding.readVarUint(update); // clock
      decoding.readVarString(update); // state (JSON)
    }
  } catch {
    // Unreadable: Hocuspocus fails to decode it too, and nothing of it is applied.
  }
  return clients;
}
