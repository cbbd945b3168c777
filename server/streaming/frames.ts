/**
 * Wire encodings of bus events, computed once per event per instance and shared by every subscriber (BusEvent.memo):
 * fan-out to N sockets writes the same Buffer N times and never re-serializes.
 */
import type { BusEvent } from '../bus/types.js';

/** The event's JSON as a WebSocket text frame payload. */
export function wsFrame(event: BusEvent): Buffer {
  return event.memo('ws', (e) => Buffer.from(e.payload));
}

/**
 * The event's JSON with its bus id as a leading `event_id` property: for sockets that follow one channel and resume
 * from an id (job progress). Bus payloads are JSON objects written by this server (`{"type":…}`).
 */
export function wsFrameWithId(event: BusEvent): Buffer {
  return event.memo('ws+id', (e) => {
    const rest = e.payload.trimStart().slice(1).trimStart();
    return Buffer.from(`{"event_id":${JSON.stringify(e.id)}${rest.startsWith('}') ? '' : ','}${rest}`);
  });
}

/** `id: …\nevent: …\ndata: …\n\n`: for streams that follow one channel (the bus id is the SSE id). */
export function sseFrameWithId(event: BusEvent): Buffer {
  return event.memo('sse+id', (e) => Buffer.from(`id: ${e.id}\n${sseBody(eventType(e), e.payload)}`));
}

/** `event: …\ndata: …\n\n` without the id line: for streams whose ids are their own cursors. */
export function sseFrameBody(event: BusEvent): Buffer {
  return event.memo('sse', (e) => Buffer.from(sseBody(eventType(e), e.payload)));
}

/** An SSE frame for a message of one connection (snapshot, reset, error). */
export function sseFrame(id: string | undefined, message: { type: string }): string {
  return `${id === undefined ? '' : `id: ${id}\n`}${sseBody(message.type, JSON.stringify(message))}`;
}

export function sseIdLine(id: string): string {
  return `id: ${id}\n`;
}

/** The `type` of the event's JSON message (its SSE event name); `message` when it has none. */
export function eventType(event: BusEvent): string {
  const json = event.json() as { type?: unknown } | undefined;
  return typeof json?.type === 'string' && /^[a-z_]{1,64}$/.test(json.type) ? json.type : 'message';
}

function sseBody(type: string, json: string): string {
  // JSON.stringify never emits a raw line break; split defensively anyway, as the SSE format requires.
  const data = json.includes('\n') || json.includes('\r') ? json.split(/\r\n|\r|\n/).join('\ndata: ') : json;
  return `event: ${type}\ndata: ${data}\n\n`;
}
