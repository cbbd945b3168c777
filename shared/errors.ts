/**
 * Error codes of the Deckhand API. Every JSON error, over HTTP, WebSocket or SSE, is an
 * `ErrorMessage` carrying one of these codes; the HTTP status of each is fixed.
 */
export const ERROR_CODES = [
  'AUTHENTICATION_FAILED',
  'PERMISSION_DENIED',
  'RATE_LIMIT_EXCEEDED',
  'INVALID_MESSAGE',
  'NOT_FOUND',
  'CONFLICT',
  'LOCKED',
  'PAYLOAD_TOO_LARGE',
  'INTERNAL_ERROR',
  /** A dependency the request needs (Postgres, for a job's terminal state) is down: retry with backoff. */
  'SERVICE_UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  AUTHENTICATION_FAILED: 401,
  PERMISSION_DENIED: 403,
  RATE_LIMIT_EXCEEDED: 429,
  INVALID_MESSAGE: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  LOCKED: 423,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};

export interface ErrorMessage {
  type: 'error';
  error_code: ErrorCode;
  message: string;
  details?: unknown;
  timestamp: string;
}

export function errorMessage(code: ErrorCode, message: string, details?: unknown): ErrorMessage {
  const body: ErrorMessage = { type: 'error', error_code: code, message, timestamp: new Date().toISOString() };
  if (details !== undefined) body.details = details;
  return body;
}

/**
 * WebSocket close codes Deckhand uses, with the reconnect advice a client should follow.
 * 1012 and 1013 are the IANA codes for "service restart" and "try again later"; 44xx mirror HTTP statuses
 * (the convention Hocuspocus uses for 4401/4403/4408).
 */
export const CLOSE_CODES = {
  /** Server shutting down: reconnect (to another instance) with backoff. */
  SERVER_SHUTDOWN: { code: 1012, reason: 'server shutting down, reconnect', reconnect: true },
  /** A dependency (Postgres) is unavailable: reconnect with backoff. */
  TRY_AGAIN_LATER: { code: 1013, reason: 'store unavailable, reconnect later', reconnect: true },
  /** Frame larger than the limit: do not resend the same frame. */
  MESSAGE_TOO_BIG: { code: 1009, reason: 'PAYLOAD_TOO_LARGE', reconnect: true },
  /** Token missing, invalid or expired: reconnect only with a fresh token. */
  AUTHENTICATION_FAILED: { code: 4401, reason: 'AUTHENTICATION_FAILED', reconnect: false },
  /** The user may not use this resource: do not reconnect. */
  PERMISSION_DENIED: { code: 4403, reason: 'PERMISSION_DENIED', reconnect: false },
  /** Too many messages, connections or a slow reader: reconnect after a pause. */
  RATE_LIMIT_EXCEEDED: { code: 4429, reason: 'RATE_LIMIT_EXCEEDED', reconnect: true },
  /** More bytes sent than the server could store yet (frames waiting for their appends): reconnect after a pause. */
  BACKLOG_EXCEEDED: { code: 4429, reason: 'RATE_LIMIT_EXCEEDED: too many bytes waiting to be stored', reconnect: true },
  /**
   * An update was refused whole (it references what the document does not have, or writes under another user's
   * client id): nothing of it was stored or acknowledged. Reconnect to resync (the provider re-sends what is
   * unacknowledged; the SDK should also take a fresh copy of the document).
   */
  UPDATE_REFUSED: { code: 4409, reason: 'CONFLICT: update refused whole, reconnect to resync', reconnect: true },
  /** Origin not allowed (cross-site WebSocket hijacking guard). */
  ORIGIN_NOT_ALLOWED: { code: 4403, reason: 'PERMISSION_DENIED: origin not allowed', reconnect: false },
  /** The resource in the URL (the job of a job socket) does not exist: do not reconnect. */
  NOT_FOUND: { code: 4404, reason: 'NOT_FOUND', reconnect: false },
  /** A frame of a kind the endpoint does not take (text on /collab): the client is broken, do not reconnect. */
  UNSUPPORTED_DATA: { code: 1003, reason: 'INVALID_MESSAGE', reconnect: false },
  /** A frame whose content is invalid (a malformed or refused Yjs update): do not resend it. */
  INVALID_PAYLOAD: { code: 1007, reason: 'INVALID_MESSAGE', reconnect: false },
  /** Not sent by Deckhand; a proxy in between may close with it: treated as PERMISSION_DENIED. */
  POLICY_VIOLATION: { code: 1008, reason: 'PERMISSION_DENIED', reconnect: false },
} as const;
