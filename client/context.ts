/** What every part of the SDK shares: where the server is, how to get a token, which WebSocket and fetch to use. */
import { defaultWebSocket } from '#default-websocket';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { TokenSource } from './token.js';

export type WebSocketConstructor = new (url: string | URL, protocols?: string | string[]) => WebSocket;

export interface DeckhandClientOptions {
  /** The server's base URL, e.g. `https://deckhand.example.com` (the API lives under `/api/v1`). */
  url: string;
  /** A JWT, or a function giving a fresh one (called on every connect and before expiry). */
  token: TokenSource;
  /** Defaults to the global WebSocket (browsers, Node 22+), and in Node without one (Node 20) to `ws`. */
  WebSocket?: WebSocketConstructor;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Reconnect delays (exponential with jitter). */
  reconnect?: Partial<BackoffOptions>;
}

export interface ClientContext {
  readonly token: TokenSource;
  readonly WebSocket: WebSocketConstructor;
  readonly fetch: typeof fetch;
  readonly backoff: BackoffOptions;
  httpUrl(path: string): string;
  wsUrl(path: string): string;
}

export function createContext(options: DeckhandClientOptions): ClientContext {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new TypeError(`url must be an absolute http(s) URL, got ${JSON.stringify(options.url)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError('url must start with http:// or https://');
  const origin = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  const wsOrigin = origin.replace(/^http/, 'ws');
  const WebSocketImpl = options.WebSocket ?? defaultWebSocket();
  if (!WebSocketImpl) throw new TypeError('no WebSocket implementation: pass options.WebSocket');
  if (!options.token) throw new TypeError('token is required');
  return {
    token: options.token,
    WebSocket: WebSocketImpl,
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    backoff: { ...DEFAULT_BACKOFF, ...options.reconnect },
    httpUrl: (path) => `${origin}${path}`,
    wsUrl: (path) => `${wsOrigin}${path}`,
  };
}
