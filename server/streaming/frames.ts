/**
 * Wire encodings of bus events, computed once per event per instance and shared by every subscriber (BusEvent.memo):
 * fan-out to N sockets writes the same Buffer N times and never re-serializes (WebSocket frames whole, header
 * included: ./wire-frame.ts).
 *
 * SSE events are unnamed (no `event:` line): `EventSource.onmessage` receives every one of them, and the JSON's
 * `type` says what it is (`job_progress`, `notification`, `reset`, `error`, …), as on the WebSocket.
 */
import type { BusEvent } from '../bus/types.js';
import { textFrame, type WireFrame } from './wire-frame.js';

/** The event's JSON as a WebSocket text frame. */
export function wsFrame(event: BusEvent): WireFrame {
  return event.memo('ws', (e) => textFrame(Buffer.from(e.payload)));
}

/**
 * The event's JSON with its bus id as a leading `event_id` property, as a WebSocket text frame: for sockets that
 * follow one channel and resume from an id (job progress). Bus payloads are JSON objects written by this server
 * (`{"type":…}`).
 */
export function wsFrameWithId(event: BusEvent): WireFrame {
  return event.memo('ws+id', (e) => {
    const rest = e.payload.trimStart().slice(1).trimStart();
    return textFrame(Buffer.from(`{"event_id":${JSON.stringify(e.id)}${rest.startsWith('}') ? '' : ','}${rest}`));
  });
}

/** `id: …\ndata: …\n\n`: for streams that follow one channel (the bus id is the SSE id). */
export function sseFrameWithId(event: BusEvent): Buffer {
  return event.memo('sse+id', (e) => Buffer.from(`id: ${e.id}\n${sseBody(e.payload)}`));
}

/** `data: …\n\n` without the id line: for streams whose ids are their own cursors. */
export function sseFrameBody(event: BusEvent): Buffer {
  return event.memo('sse', (e) => Buffer.from(sseBody(e.payload)));
}

/** An SSE frame for a message of one connection (snapshot, reset, error). */
export function sseFrame(id: string | undefined, message: { type: string }): string {
  return `${id === undefined ? '' : `id: ${id}\n`}${sseBody(JSON.stringify(message))}`;
}

export function sseIdLine(id: string): string {
  return `id: ${id}\n`;
}

function sseBody(json: string): string {
  // JSON.stringify never emits a raw line break; split defensively anyway, as the SSE format requires.
  const data = json.includes('\n') || json.includes('\r') ? json.split(/\r\n|\r|\n/).join('\ndata: ') : json;
  return `data: ${data}\n\n`;
}
