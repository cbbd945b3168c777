/**
 * One JSON WebSocket connection (job progress or notifications), from open to close:
 * - the token goes in `?token=` (browsers cannot set headers on a WebSocket); the connection counts as open once the
 *   server accepted it (its `connected` message);
 * - `?last_event_id=` resumes a job stream: messages carry their `event_id`, which the caller keeps for the next attempt;
 * - before the token expires (`token_expires_at` of `connected` / `authenticated`) a fresh one is sent as
 *   `{"type":"auth","token"}`, so the connection outlives its tokens;
 * - a `ping` every heartbeat interval; no message at all for a whole interval after one means the connection is
 *   dead (half-open TCP), and it is closed so the caller reconnects;
 * - the close code says what to do next (shared/errors.ts CLOSE_CODES).
 *   The server explains a refusal with an `error` message just before closing: an error is reported once the
 *   connection goes on (a later message, or a moment without close), or as the fatal reason when it closes.
 */
import { CLOSE_CODES, type ErrorCode } from '../../shared/errors.js';
import { MAX_TIMER_MS } from '../../shared/timers.js';
import type { ClientContext } from '../context.js';
import { DeckhandError, isErrorMessage } from '../errors.js';
import { refreshDelay, resolveToken } from '../token.js';
import { parseMessage, tokenExpiryOf } from './messages.js';
import type { ConnectionHandlers, ConnectionOutcome } from './outcome.js';

const HEARTBEAT_MS = 25_000;
/** How long an error waits for the close that may follow it. */
const ERROR_SETTLE_MS = 500;

/** Close codes after which reconnecting cannot help. */
const FATAL_CLOSE_CODES: ReadonlyMap<number, ErrorCode> = new Map([
  [CLOSE_CODES.PERMISSION_DENIED.code, 'PERMISSION_DENIED'],
  [CLOSE_CODES.NOT_FOUND.code, 'NOT_FOUND'],
  [CLOSE_CODES.UNSUPPORTED_DATA.code, 'INVALID_MESSAGE'],
  [CLOSE_CODES.INVALID_PAYLOAD.code, 'INVALID_MESSAGE'],
  [CLOSE_CODES.POLICY_VIOLATION.code, 'PERMISSION_DENIED'],
]);

export function runWebSocket(
  ctx: ClientContext,
  path: string,
  token: string,
  handlers: ConnectionHandlers,
  signal: AbortSignal,
  lastEventId?: string,
): Promise<ConnectionOutcome> {
  return new Promise((resolve) => {
    let socket: WebSocket;
    try {
      const resume = lastEventId === undefined ? '' : `&last_event_id=${encodeURIComponent(lastEventId)}`;
      socket = new ctx.WebSocket(`${ctx.wsUrl(path)}?token=${encodeURIComponent(token)}${resume}`);
    } catch {
      return resolve({ opened: false });
    }
    let opened = false;
    let pendingError: DeckhandError | undefined;
    let errorTimer: ReturnType<typeof setTimeout> | undefined;
    const flushError = () => {
      clearTimeout(errorTimer);
      if (pendingError) handlers.error(pendingError);
      pendingError = undefined;
    };
    let refreshTimer: ReturnType<typeof setTimeout> | undefined;
    let heardSincePing = true;
    const heartbeat = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      if (!heardSincePing) return socket.close();
      heardSincePing = false;
      socket.send(JSON.stringify({ type: 'ping' }));
    }, HEARTBEAT_MS);

    const scheduleRefresh = (expiresAt: number) => {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(() => void sendFreshToken(), Math.min(refreshDelay(expiresAt), MAX_TIMER_MS));
    };
    const sendFreshToken = async () => {
      try {
        const fresh = await resolveToken(ctx.token);
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'auth', token: fresh }));
      } catch (err) {
        handlers.error(new DeckhandError('AUTHENTICATION_FAILED', `could not get a fresh token: ${(err as Error).message}`));
      }
    };
    const onAbort = () => socket.close(1000, 'client stopped');
    signal.addEventListener('abort', onAbort, { once: true });

    socket.addEventListener('message', (event: MessageEvent) => {
      heardSincePing = true;
      if (typeof event.data !== 'string') return;
      const message = parseMessage(event.data);
      if (!message) return;
      flushError();
      const expiresAt = tokenExpiryOf(message);
      if (expiresAt !== undefined) scheduleRefresh(expiresAt);
      if (message.type === 'connected' && !opened) {
        opened = true;
        handlers.opened((outgoing) => {
          if (socket.readyState !== socket.OPEN) return false;
          socket.send(JSON.stringify(outgoing));
          return true;
        });
      }
      if (isErrorMessage(message)) {
        pendingError = DeckhandError.fromMessage(message);
        errorTimer = setTimeout(flushError, ERROR_SETTLE_MS);
        return;
      }
      handlers.message(message, typeof message.event_id === 'string' ? message.event_id : undefined);
    });
    // The close that follows an error says what happened. Listening matters for `ws` (Node 20), which throws an error
    // nobody listens to (a refused handshake) instead of closing.
    socket.addEventListener('error', () => {});
    socket.addEventListener('close', (event: CloseEvent) => {
      clearInterval(heartbeat);
      clearTimeout(refreshTimer);
      clearTimeout(errorTimer);
      signal.removeEventListener('abort', onAbort);
      // An expired or refused token: the caller reconnects with a fresh one.
      if (event.code === CLOSE_CODES.AUTHENTICATION_FAILED.code) return resolve({ opened, authFailed: true });
      const fatalCode = FATAL_CLOSE_CODES.get(event.code);
      if (fatalCode) return resolve({ opened, fatal: pendingError ?? new DeckhandError(fatalCode, event.reason || `closed with ${event.code}`) });
      flushError();
      resolve({ opened });
    });
  });
}
