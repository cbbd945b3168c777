/**
 * Verified tokens, remembered briefly: a worker posting progress sends the same token with every request, and
 * verifying it (HMAC or signature, base64 and JSON decoding, claim checks) is a fixed cost per request. A token that
 * verified is remembered under its SHA-256 (the token itself is never kept) with the principal it gave, for at most
 * `ttlMs` and never past its `exp`; at most `max` entries, the least recently used dropped first. Failures are not
 * remembered (a flood of bad tokens cannot push out good ones, and each is refused by the real verification).
 *
 * What a cached answer can differ in: nothing the token says (the hash is of the whole token, signature included);
 * only time-based checks, which are repeated here (`exp`). `nbf` is not re-checked: a token is cached only once it
 * verified, so after its `nbf`.
 */
import { hash } from 'node:crypto';
import type { Principal } from './jwt.js';

export interface VerifiedTokenCacheOptions {
  /** Entries at most (default 10,000). */
  max?: number;
  /** How long a verification is reused (default 60 s). */
  ttlMs?: number;
  now?: () => number;
}

interface Entry {
  principal: Principal;
  /** When the entry stops being used: min(verified + ttl, exp). */
  until: number;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly max: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: VerifiedTokenCacheOptions = {}) {
    this.max = options.max ?? 10_000;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The principal of `token` if it verified recently and has not expired since; else `verify(token)`, remembered. */
  verify(token: string, verify: (token: string) => Principal): Principal {
    // One-shot hash (no Hash object, no update/digest calls): most of createHash's cost per request was not SHA-256.
    const key = hash('sha256', token, 'base64');
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      if (hit.until > now) {
        this.entries.set(key, hit);
        return hit.principal;
      }
    }
    const principal = verify(token);
    const until = Math.min(now + this.ttlMs, principal.expiresAt);
    if (until > now) {
      this.entries.set(key, { principal, until });
      if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    }
    return principal;
  }
}
