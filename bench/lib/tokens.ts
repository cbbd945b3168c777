import jwt from 'jsonwebtoken';

/** The HS256 secret of the benchmark's Deckhand (never a production secret: the bench runs on loopback only). */
export const BENCH_SECRET = 'bench-secret-0123456789abcdef-deckhand';

export function mintToken(sub: string, scope?: string, secret = BENCH_SECRET): string {
  const claims: Record<string, unknown> = { sub, name: sub };
  if (scope) claims.scope = scope;
  return jwt.sign(claims, secret, { algorithm: 'HS256', expiresIn: 4 * 3600 });
}
