/**
 * Origin allowlist (CORS_ORIGINS) for WebSocket upgrades and SSE: the cross-site WebSocket hijacking guard.
 * Requests without an Origin header come from non-browser clients (workers, SDK in Node) and are allowed:
 * browsers always send Origin on WebSocket upgrades and cross-origin EventSource requests.
 */
export function isOriginAllowed(allowed: string[] | '*', origin: string | undefined): boolean {
  if (allowed === '*' || origin === undefined) return true;
  return allowed.includes(origin);
}
