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

/**
 * A URL safe to log: the value of every query parameter whose name, once decoded, mentions `token` (`token`,
 * `%74oken`, `access_token`, any case) is replaced, so tokens never reach a log line. Redaction goes by the decoded
 * name because the query parsers that read `?token=` decode it too; a name that cannot be decoded is redacted as
 * well. Over-redacting a harmless parameter costs nothing; missing a spelling leaks a credential.
 */
export function redactTokenInUrl(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const end = url.indexOf('#', start);
  const query = url.slice(start + 1, end === -1 ? undefined : end);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return mentionsToken(name) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return `${url.slice(0, start + 1)}${redacted}${end === -1 ? '' : url.slice(end)}`;
}

function mentionsToken(rawName: string): boolean {
  let name: string;
  try {
    name = decodeURIComponent(rawName.replace(/\+/g, ' '));
  } catch {
    return true;
  }
  return name.toLowerCase().includes('token');
}
