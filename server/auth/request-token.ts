/**
 * Where a token comes from on an HTTP request or WebSocket upgrade: `Authorization: Bearer …`, else `?token=`
 * (for browser WebSocket and EventSource, which cannot set headers).
 */

/** The token of an `Authorization: Bearer …` header, if that is what the header holds. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** The token of a request: Fastify's, or what a JSON socket kept of its upgrade (server/streaming/upgrade.ts). */
export function tokenFromRequest(request: { headers: { authorization?: string | undefined }; query?: unknown }): string | undefined {
  const fromHeader = bearerToken(request.headers.authorization);
  if (fromHeader) return fromHeader;
  const query = request.query as Record<string, unknown> | undefined;
  const token = query?.token;
  return typeof token === 'string' && token.length > 0 ? token : undefined;
}

/** Pino serializer-safe URL: the `token` query parameter is replaced, so tokens never reach a log line. */
export function redactTokenInUrl(url: string): string {
  return url.replace(/([?&](?:token|access_token)=)[^&#]*/gi, '$1[redacted]');
}
