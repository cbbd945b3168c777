/** A real `ws` client for the JSON sockets, collecting every message (parsed) and the close code. */
import WebSocket from 'ws';

export interface JsonWsClient {
  ws: WebSocket;
  /** Every text message received, parsed (or the raw string when not JSON). */
  messages: any[];
  closeInfo: { code: number; reason: string } | undefined;
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** The first message (from index `from`) matching `predicate`, waiting for it. */
  waitFor(predicate: (m: any) => boolean, timeoutMs?: number, what?: string, from?: number): Promise<any>;
  waitForType(type: string, timeoutMs?: number, from?: number): Promise<any>;
  close(): void;
}

export interface OpenOptions {
  headers?: Record<string, string>;
  origin?: string;
  /** Resolve on the connection's first message instead of on open. */
  waitForFirstMessage?: boolean;
}

export function openJsonWs(url: string, options: OpenOptions = {}): Promise<JsonWsClient> {
  const ws = new WebSocket(url, { headers: options.headers, origin: options.origin });
  const messages: any[] = [];
  let closeInfo: { code: number; reason: string } | undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString() };
      resolve(closeInfo);
    });
  });
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString();
    try {
      messages.push(JSON.parse(text));
    } catch {
      messages.push(text);
    }
  });
  const client: JsonWsClient = {
    ws,
    messages,
    get closeInfo() {
      return closeInfo;
    },
    closed,
    send(message) {
      ws.send(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message));
    },
    async waitFor(predicate, timeoutMs = 10_000, what = 'message', from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.slice(from).find(predicate);
        if (found !== undefined) return found;
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages).slice(0, 2000)} close=${JSON.stringify(closeInfo)}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    waitForType(type, timeoutMs, from) {
      return client.waitFor((m) => m?.type === type, timeoutMs, `a ${type} message`, from);
    },
    close() {
      ws.close();
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    const ready = () => {
      ws.off('error', reject);
      ws.on('error', () => {});
      resolve(client);
    };
    if (options.waitForFirstMessage) ws.once('message', ready);
    else ws.once('open', ready);
  });
}
