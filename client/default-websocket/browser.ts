/** The WebSocket the SDK uses in browsers when the caller passes none: the global one (see ./node.ts for Node). */
export function defaultWebSocket(): typeof WebSocket | undefined {
  return (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
}
