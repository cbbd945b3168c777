/** What a transport reports while a connection lives, and how it ended (which decides the next attempt). */
import type { DeckhandError } from '../errors.js';

export interface ConnectionHandlers {
  /**
   * The server accepted the connection (WebSocket: its `connected` message; SSE: 200). `send` (WebSocket only) sends
   * a client message on it while it is open (false once it is not).
   */
  opened(send?: (message: object) => boolean): void;
  /** A validated server message (errors excluded). `eventId` is the id to resume after it (SSE `id`, WebSocket `event_id`). */
  message(message: Record<string, unknown>, eventId?: string): void;
  /** An error message that does not end the connection. */
  error(error: DeckhandError): void;
}

export interface ConnectionOutcome {
  /** The server accepted the connection before it ended. */
  opened: boolean;
  /** The token was refused (not opened) or expired (opened): reconnect with a fresh one. */
  authFailed?: boolean;
  /** Refused for good (permission, not found, bad request): do not reconnect. */
  fatal?: DeckhandError;
}
