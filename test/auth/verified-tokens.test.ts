/**
 * The verifier reuses a verification briefly (server/auth/verified-tokens.ts): what it answers from memory must be
 * what a fresh verification would answer. Real tokens, the real verifier.
 */
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, type Principal } from '../../server/auth/jwt.js';
import { VerifiedTokenCache } from '../../server/auth/verified-tokens.js';
import { TEST_SECRET } from '../helpers/server.js';

const verifier = createTokenVerifier({ secret: TEST_SECRET, publicKey: undefined, audience: undefined, issuer: undefined, generated: false });

describe('verified-token cache', () => {
  it('a token verified a moment ago is refused once its exp has passed', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = jwt.sign({ sub: 'worker', scope: 'jobs:write', exp }, TEST_SECRET, { algorithm: 'HS256' });
    expect(verifier.verify(token)).toMatchObject({ userId: 'worker', expiresAt: exp * 1000 });
    expect(verifier.verify(token).scopes.has('jobs:write')).toBe(true);
    while (Date.now() < exp * 1000) await new Promise((r) => setTimeout(r, 50));
    expect(() => verifier.verify(token)).toThrow(/expired/);
  });

  it('answers from memory only for the exact token: another signature or payload is verified afresh', () => {
    const token = jwt.sign({ sub: 'alice' }, TEST_SECRET, { algorithm: 'HS256', expiresIn: 600 });
    expect(verifier.verify(token).userId).toBe('alice');
    const [header, payload, signature] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'admin', scope: 'admin', exp: 9e9 })).toString('base64url')}.${signature}`;
    expect(() => verifier.verify(forged)).toThrow(/signature/);
    expect(() => verifier.verify(`${header}.${payload}.${signature!.slice(0, -2)}xx`)).toThrow();
    // A failure is not remembered as a success either.
    expect(() => verifier.verify(forged)).toThrow(/signature/);
  });

  it('returns a principal nobody can change for the next request', () => {
    const token = jwt.sign({ sub: 'bob' }, TEST_SECRET, { algorithm: 'HS256', expiresIn: 600 });
    const first = verifier.verify(token);
    expect(Object.isFrozen(first)).toBe(true);
    expect(verifier.verify(token)).toBe(first);
  });

  it('keeps at most `max` tokens, drops the oldest first, and verifies a dropped or aged-out token again', () => {
    let clock = 0;
    const cache = new VerifiedTokenCache({ max: 2, ttlMs: 1000, now: () => clock });
    const verified: string[] = [];
    const verify = (token: string): Principal => {
      verified.push(token);
      return verifier.verify(token, { remember: false });
    };
    const [a, b, c] = ['ann', 'ben', 'cat'].map((sub) => jwt.sign({ sub }, TEST_SECRET, { algorithm: 'HS256', expiresIn: 600 }));
    expect([a, b, a, b].map((t) => cache.verify(t!, verify).userId)).toEqual(['ann', 'ben', 'ann', 'ben']);
    expect(verified).toEqual([a, b]);
    cache.verify(c!, verify);
    expect(cache.size).toBe(2);
    expect(cache.verify(b!, verify).userId).toBe('ben');
    expect(cache.verify(a!, verify).userId).toBe('ann');
    expect(verified).toEqual([a, b, c, a]);
    clock = 1000;
    cache.verify(a!, verify);
    expect(verified).toEqual([a, b, c, a, a]);
  });
});
