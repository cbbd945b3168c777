/**
 * One SSE request (job progress or notifications), read with fetch so that it works the same in browsers and Node
 * and can send `Authorization` and `Last-Event-ID` headers (EventSource can do neither on its first request):
 * - `Last-Event-ID` resumes after the last event processed: the server replays exactly what came after it, or
 *   sends `reset` when that is older than its history;
 * - the server writes a keepalive comment every SSE_KEEPALIVE_INTERVAL (15 s); silence for IDLE_TIMEOUT_MS means a
 *   dead connection, which is aborted so the caller reconnects;
 * - an `error` event with AUTHENTICATION_FAILED (token expired) ends the stream: reconnect with a fresh token.
 */
import type { ClientContext } from '../context.js';
import { codeOfStatus, DeckhandError, isErrorMessage } from '../errors.js';
import { parseMessage } from './messages.js';
import type { ConnectionHandlers, ConnectionOutcome } from './outcome.js';
import { SseParser } from './sse-parser.js';

const IDLE_TIMEOUT_MS = 45_000;

async function errorOf(response: Response): Promise<DeckhandError> {
  try {
    const body: unknown = await response.json();
    if (isErrorMessage(body)) return DeckhandError.fromMessage(body);
  } catch {
    // not JSON: described by the status below
  }
  return new DeckhandError(codeOfStatus(response.status), `HTTP ${response.status}`);
}

export async function runSse(
  ctx: ClientContext,
  path: string,
  token: string,
  lastEventId: string | undefined,
  handlers: ConnectionHandlers,
  signal: AbortSignal,
): Promise<ConnectionOutcome> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal.addEventListener('abort', abort, { once: true });
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const touch = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(abort, IDLE_TIMEOUT_MS);
  };
  const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${token}`, 'cache-control': 'no-cache' };
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  let opened = false;
  let authFailed = false;
  try {
    touch();
    const response = await ctx.fetch(ctx.httpUrl(path), { headers, signal: controller.signal });
    if (response.status === 401) return { opened, authFailed: true };
    if ([400, 403, 404].includes(response.status)) return { opened, fatal: await errorOf(response) };
    if (!response.ok || !response.body) {
      handlers.error(await errorOf(response));
      return { opened };
    }
    opened = true;
    handlers.opened();
    const parser = new SseParser();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      touch();
      for (const event of parser.feed(value)) {
        const message = parseMessage(event.data);
        if (!message) continue;
        if (isErrorMessage(message)) {
          if (message.error_code === 'AUTHENTICATION_FAILED') authFailed = true;
          else handlers.error(DeckhandError.fromMessage(message));
          continue;
        }
        handlers.message(message, event.id);
      }
    }
  } catch {
    // network error, abort or idle timeout: the caller decides whether to reconnect
  } finally {
    clearTimeout(idleTimer);
    signal.removeEventListener('abort', abort);
    controller.abort();
  }
  return { opened, authFailed };
}
