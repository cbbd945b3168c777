/**
 * The WebSocket the SDK uses in Node when the caller passes none: Node's own (Node 22+), else `ws` (Node 20 has no
 * global WebSocket). Bundlers building for browsers take ./browser.ts instead (package.json `imports`, `browser`
 * condition), so `ws` never reaches a browser bundle.
 */
import { WebSocket as WsWebSocket } from 'ws';

export function defaultWebSocket(): typeof WebSocket | undefined {
  // `ws` implements the WHATWG interface the SDK uses (addEventListener, readyState/OPEN, send, close); its typings
  // are its own, so they are bridged here, once.
  return globalThis.WebSocket ?? (WsWebSocket as unknown as typeof WebSocket);
}
