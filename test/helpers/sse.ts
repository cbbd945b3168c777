/**
 * A raw SSE client on node:http: full control of headers (Last-Event-ID, Origin) and of reading (pause() makes a
 * reader that does not read, for the slow-consumer tests). Parses events per the SSE format.
 */
import http from 'node:http';

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
  json: any;
}

export interface SseClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body of a non-200 response, parsed. */
  error: any;
  events: SseEvent[];
  comments: string[];
  retry: number | undefined;
  ended: Promise<void>;
  isEnded: () => boolean;
  waitFor(predicate: (e: SseEvent) => boolean, timeoutMs?: number, what?: string): Promise<SseEvent>;
  waitForCount(count: number, timeoutMs?: number): Promise<void>;
  /** The id of the last event that had one (what a browser would send as Last-Event-ID). */
  lastEventId(): string | undefined;
  pause(): void;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const events: SseEvent[] = [];
      const comments: string[] = [];
      let ended = false;
      let buffer = '';
      let retry: number | undefined;
      let resolveEnded!: () => void;
      const endedPromise = new Promise<void>((r) => (resolveEnded = r));
      const finish = () => {
        ended = true;
        resolveEnded();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      const client: SseClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        error: undefined,
        events,
        comments,
        get retry() {
          return retry;
        },
        ended: endedPromise,
        isEnded: () => ended,
        async waitFor(predicate, timeoutMs = 10_000, what = 'event') {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const found = events.find(predicate);
            if (found) return found;
            if (Date.now() > deadline)
              throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(events.map((e) => [e.event, e.data.slice(0, 200)]))}`);
            await new Promise((r) => setTimeout(r, 10));
          }
        },
        async waitForCount(count, timeoutMs = 10_000) {
          await client
            .waitFor(() => events.length >= count, timeoutMs, `${count} events`)
            .catch(() => {
              throw new Error(`timed out waiting for ${count} events; got ${events.length}`);
            });
        },
        lastEventId() {
          for (let i = events.length - 1; i >= 0; i--) if (events[i]!.id !== undefined) return events[i]!.id;
          return undefined;
        },
        pause() {
          res.pause();
        },
        close() {
          req.destroy();
          res.destroy();
        },
      };
      if (client.status !== 200) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          try {
            client.error = JSON.parse(body);
          } catch {
            client.error = body;
          }
          resolve(client);
        });
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk.replace(/\r\n?/g, '\n');
        for (let split = buffer.indexOf('\n\n'); split >= 0; split = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          let id: string | undefined;
          let event = 'message';
          const data: string[] = [];
          let hasData = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              comments.push(line.slice(1).trim());
              continue;
            }
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') id = value;
            else if (field === 'event') event = value;
            else if (field === 'retry') retry = Number(value);
            else if (field === 'data') {
              data.push(value);
              hasData = true;
            }
          }
          if (!hasData) continue;
          const text = data.join('\n');
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          events.push({ id, event, data: text, json });
        }
      });
      resolve(client);
    });
    req.on('error', reject);
  });
}
