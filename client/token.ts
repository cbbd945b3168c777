/**
 * Tokens: a fixed JWT, or a function the SDK calls for a fresh one on every (re)connect and before the current one
 * expires. Claims are read (not verified: the server verifies) to know who the user is and when the token expires.
 */
export type TokenSource = string | (() => string | Promise<string>);

export interface TokenClaims {
  sub: string;
  name: string;
  /** Expiry in ms since the epoch, when the token says. */
  expiresAt: number | undefined;
}

/** How long before expiry a fresh token is sent (the collaboration server asks 30 s before `exp` too). */
export const REFRESH_LEAD_MS = 30_000;

export async function resolveToken(source: TokenSource): Promise<string> {
  const token = typeof source === 'function' ? await source() : source;
  if (typeof token !== 'string' || token.length === 0) throw new TypeError('the token source must give a non-empty string');
  return token;
}

function decodeBase64Url(text: string): string {
  const base64 = text
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(text.length / 4) * 4, '=');
  const binary = atob(base64);
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/** The claims of a JWT, or null when it is not a readable JWT. */
export function readClaims(token: string): TokenClaims | null {
  const payload = token.split('.')[1];
  if (!payload || !/^[A-Za-z0-9_-]+$/.test(payload)) return null;
  try {
    const claims = JSON.parse(decodeBase64Url(payload)) as Record<string, unknown>;
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) return null;
    return {
      sub: claims.sub,
      name: typeof claims.name === 'string' && claims.name.length > 0 ? claims.name : claims.sub,
      expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined,
    };
  } catch {
    return null;
  }
}

/** When to send a fresh token for one that expires at `expiresAt`: REFRESH_LEAD_MS before, or halfway for short ones. */
export function refreshDelay(expiresAt: number, now = Date.now()): number {
  const left = expiresAt - now;
  return Math.max(0, left - Math.min(REFRESH_LEAD_MS, left / 2));
}
