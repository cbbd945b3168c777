/**
 * An incremental parser of the `text/event-stream` format (WHATWG HTML §9.2): feed it decoded text as it arrives,
 * get complete events. Handles CRLF/CR/LF line ends split across chunks, multi-line `data`, comments, `id` (kept
 * across events, as the spec's "last event id") and `retry`.
 */
export interface SseEvent {
  /** The last event id at the time of this event (the spec's lastEventId), if any id was seen. */
  id: string | undefined;
  event: string;
  data: string;
}

export class SseParser {
  private buffer = '';
  private pendingCr = false;
  private lastId: string | undefined;
  private eventType = '';
  private data: string[] = [];
  private hasData = false;
  /** The server's `retry:` hint in ms, if it sent one. */
  retry: number | undefined;

  /** Parses a chunk of text; returns the events it completed. */
  feed(chunk: string): SseEvent[] {
    const events: SseEvent[] = [];
    let text = chunk;
    // A CR at the end of the previous chunk may be the first half of a CRLF.
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = text.endsWith('\r');
    this.buffer += text;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') {
      this.data.push(value);
      this.hasData = true;
    } else if (field === 'event') {
      this.eventType = value;
    } else if (field === 'id') {
      if (!value.includes('\0')) this.lastId = value;
    } else if (field === 'retry' && /^\d+$/.test(value)) {
      this.retry = Number(value);
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const event = this.hasData ? { id: this.lastId, event: this.eventType || 'message', data: this.data.join('\n') } : undefined;
    this.eventType = '';
    this.data = [];
    this.hasData = false;
    return event;
  }
}
