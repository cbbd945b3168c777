/**
 * JWT verification (JWT_SECRET: HS256; JWT_PUBLIC_KEY: RS256/ES256): algorithms pinned by key type, `exp` required,
 * audience and issuer checked when
 * configured. Claims: `sub` (user id), `name`, optional space-separated `scope`.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Config } from '../config.js';
import { VerifiedTokenCache } from './verified-tokens.js';

/**
 * A token's `sub` (the user id) is at most this long. The owner the server claims its own client ids for
 * (server/collab/client-owners.ts) is longer, so no user can ever be it.
 */
export const MAX_USER_ID_LENGTH = 256;

export type Scope = 'jobs:write' | 'notifications:write' | 'documents:write' | 'admin' | (string & {});

export interface Principal {
  userId: string;
  name: string;
  scopes: ReadonlySet<Scope>;
  /** Expiry, in ms since the epoch. */
  expiresAt: number;
}

export class AuthError extends Error {
  readonly code = 'AUTHENTICATION_FAILED' as const;
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

/**
 * The scope sets of verified tokens, one per distinct `scope` claim: every connection keeps its principal, and a Set
 * is ~230 bytes (most tokens of a deployment share a handful of scope strings). Bounded: past the cap, fresh sets.
 */
const scopeSets = new Map<string, ReadonlySet<Scope>>();
const MAX_SCOPE_SETS = 1000;

function scopesOf(scope: string): ReadonlySet<Scope> {
  let set = scopeSets.get(scope);
  if (!set) {
    set = new Set(scope.split(' ').filter(Boolean));
    if (scopeSets.size < MAX_SCOPE_SETS) scopeSets.set(scope, set);
  }
  return set;
}

const HMAC_ALGORITHMS: jwt.Algorithm[] = ['HS256'];
const PUBLIC_KEY_ALGORITHMS: jwt.Algorithm[] = ['RS256', 'ES256'];
const MAX_TOKEN_LENGTH = 8192;

export interface TokenVerifier {
  /**
   * The token's principal. A verification is reused briefly (./verified-tokens.ts) unless `remember` is false (a
   * long-lived connection verifies its token once: remembering it only costs memory per connection).
   */
  verify(token: string, options?: { remember?: boolean }): Principal;
  /** Mints a token (HS256 only): used by `npm run token`, tests and the dev demo. */
  sign(claims: { sub: string; name?: string; scope?: string }, expiresInSeconds?: number): string;
}

/**
 * The key as jsonwebtoken would convert it, converted once: given a string, `jwt.verify` tries `createPublicKey`
 * (which throws for a secret) and then `createSecretKey` on every call, ~60 µs per verify; with a KeyObject it
 * skips both (~13 µs). Key material neither accepts stays a string, so jsonwebtoken reports it as before.
 */
function toKeyObject(key: string): KeyObject | string {
  try {
    return createPublicKey(key);
  } catch {
    try {
      return createSecretKey(Buffer.from(key));
    } catch {
      return key;
    }
  }
}

export function createTokenVerifier(jwtConfig: Config['jwt']): TokenVerifier {
  const rawKey = jwtConfig.publicKey ?? jwtConfig.secret;
  if (!rawKey) throw new Error('JWT key not configured');
  const key = toKeyObject(rawKey);
  const algorithms = jwtConfig.publicKey ? PUBLIC_KEY_ALGORITHMS : HMAC_ALGORITHMS;
  const options: jwt.VerifyOptions = { algorithms, complete: false };
  if (jwtConfig.audience) options.audience = jwtConfig.audience;
  if (jwtConfig.issuer) options.issuer = jwtConfig.issuer;

  const verifyUncached = (token: string): Principal => {
    let payload: string | jwt.JwtPayload;
    try {
      payload = jwt.verify(token, key, options);
    } catch (err) {
      // jsonwebtoken's messages never contain the token itself.
      throw new AuthError((err as Error).message || 'invalid token');
    }
    if (typeof payload !== 'object' || payload === null) throw new AuthError('token payload is not an object');
    if (typeof payload.exp !== 'number') throw new AuthError('token has no exp');
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > MAX_USER_ID_LENGTH) {
      throw new AuthError('token sub must be a non-empty string');
    }
    const name = typeof payload.name === 'string' && payload.name.length > 0 ? payload.name.slice(0, 128) : payload.sub;
    const scope = typeof payload.scope === 'string' ? payload.scope : '';
    return Object.freeze({
      userId: payload.sub,
      name,
      scopes: scopesOf(scope),
      expiresAt: payload.exp * 1000,
    });
  };
  // Workers send the same token with every request: a verified token is reused briefly (./verified-tokens.ts).
  const cache = new VerifiedTokenCache();

  return {
    verify(token: string, verifyOptions?: { remember?: boolean }): Principal {
      if (typeof token !== 'string' || token.length === 0) throw new AuthError('missing token');
      if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('token too long');
      return verifyOptions?.remember === false ? verifyUncached(token) : cache.verify(token, verifyUncached);
    },
    sign(claims, expiresInSeconds = 3600) {
      if (!jwtConfig.secret) throw new Error('signing needs JWT_SECRET (HS256)');
      const signOptions: jwt.SignOptions = { algorithm: 'HS256', expiresIn: expiresInSeconds };
      if (jwtConfig.audience) signOptions.audience = jwtConfig.audience;
      if (jwtConfig.issuer) signOptions.issuer = jwtConfig.issuer;
      return jwt.sign({ ...claims }, jwtConfig.secret, signOptions);
    },
  };
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has(scope) || principal.scopes.has('admin');
}
