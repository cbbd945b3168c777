/**
 * Verified tokens, remembered briefly: a worker posting progress sends the same token with every request, and
 * verifying it (HMAC or signature, base64 and JSON decoding, claim checks) is a fixed cost per request. A token that
 * verified is remembered under the token itself with the principal it gave, for at most `ttlMs` and never past its
 * `exp`; at most `max` entries, the oldest dropped first (a hit does not move its entry: that was a Map delete and set
 * per request, and an entry lives `ttlMs` at most anyway). Failures are not remembered (a flood of bad
 * tokens cannot push out good ones, and each is refused by the real verification).
 *
 * Keyed by the whole token, not a digest of it: a SHA-256 per request cost more than the rest of the lookup (~1 µs
 * in a loop, several in the server, where each request's token is a new string), and keeping the token adds little
 * for an attacker who can read this process's memory: every request in flight carries one (and with HS256 the signing
 * secret is there too). The entries never reach a log, a metric or an answer.
 *
 * What a cached answer can differ in: nothing the token says (the key is the whole token, signature included); only
 * time-based checks, which are repeated here (`exp`). `nbf` is not re-checked: a token is cached only once it
 * verified, so after its `nbf`.
 */
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
    const now = this.now();
    const hit = this.entries.get(token);
    if (hit) {
      if (hit.until > now) return hit.principal;
      this.entries.delete(token);
    }
    const principal = verify(token);
    const until = Math.min(now + this.ttlMs, principal.expiresAt);
    if (until > now) {
      this.entries.set(token, { principal, until });
      if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    }
    return principal;
  }
}
