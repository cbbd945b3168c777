/**
 * Security headers (helmet's: HSTS, nosniff, frame options, referrer policy, cross-origin policies, …) on every HTTP
 * response. helmet decides them once, at start-up, against a recording response (Deckhand's configuration makes
 * them the same for every request: no CSP nonces), and each reply gets the recorded set (./response-headers.ts).
 * @fastify/helmet built the whole helmet middleware again for every request (two hooks, the options parsed, a dozen
 * setHeader calls on Node's response), a fixed cost on every progress POST (docs/performance.md).
 */
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The headers helmet sets for `options`, by lower-case name. */
export function securityHeaders(options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
    getHeader: () => undefined,
  };
  let failed: unknown;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => (failed = err));
  if (failed) throw failed;
  return headers;
}
