/**
 * A connection's token lifetime (a token's `exp` is required): when the token expires the connection is closed with
 * AUTHENTICATION_FAILED, unless the client sent a fresh token for the same user first (`renew`).
 *
 * Every lease of the process is watched by one timer (ExpiryWatch: leases grouped by the second they expire in), not
 * one timer each: an idle subscriber holds no Timeout. The timer is armed for the earliest second that holds a lease,
 * so the process wakes when a token expires (and at least once a minute), not every second. A lease is acted on within
 * a second after its `exp`.
 */
import type { Principal } from '../auth/jwt.js';

const TICK_MS = 1000;
/**
 * The longest the timer is armed for: a later expiry is reached in several arms. The delay is worked out from the wall
 * clock when armed, and a timer runs on the monotonic clock: after a wall-clock jump (a VM resumed from suspend), an
 * expired token is acted on within this.
 */
const MAX_DELAY_MS = 60_000;

/** The leases of the process, by the second they expire in; one timer, for the earliest of them. */
class ExpiryWatch {
  private readonly buckets = new Map<number, Set<TokenLease>>();
  private timer: NodeJS.Timeout | undefined;
  /** The second the timer is armed for (Infinity: not armed). */
  private armedFor = Infinity;

  add(lease: TokenLease, expiresAt: number): number {
    // The first tick at or after the expiry: a lease taken out of its bucket has always expired.
    const second = Math.ceil(expiresAt / TICK_MS);
    let bucket = this.buckets.get(second);
    if (!bucket) {
      bucket = new Set();
      this.buckets.set(second, bucket);
    }
    bucket.add(lease);
    if (second < this.armedFor) this.arm(second);
    return second;
  }

  remove(lease: TokenLease, second: number): void {
    const bucket = this.buckets.get(second);
    if (!bucket?.delete(lease) || bucket.size > 0) return;
    this.buckets.delete(second);
    // An emptied earliest bucket keeps the timer: it fires, finds nothing due and arms for the next one.
    if (this.buckets.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.armedFor = Infinity;
    }
  }

  private arm(second: number): void {
    clearTimeout(this.timer);
    this.armedFor = second;
    this.timer = setTimeout(() => this.tick(), Math.min(MAX_DELAY_MS, Math.max(0, second * TICK_MS - Date.now())));
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const [second, bucket] of this.buckets) {
      if (second * TICK_MS > now) {
        next = Math.min(next, second);
        continue;
      }
      this.buckets.delete(second);
      // A lease whose token was renewed meanwhile goes back in (add arms the timer for it if it is the earliest).
      for (const lease of bucket) lease.check(now);
    }
    if (next < this.armedFor) this.arm(next);
  }
}

const watch = new ExpiryWatch();

/** Who holds a lease: told once its token has expired. */
export interface LeaseHolder {
  tokenExpired(): void;
}

export class TokenLease {
  /** The watch bucket this lease is in (undefined once disposed or expired). */
  private second: number | undefined;

  constructor(
    private principal: Principal,
    private readonly holder: LeaseHolder,
  ) {
    this.second = watch.add(this, principal.expiresAt);
  }

  get current(): Principal {
    return this.principal;
  }

  /** Replaces the token; false (and nothing changes) when it is for another user. */
  renew(next: Principal): boolean {
    if (next.userId !== this.principal.userId) return false;
    this.dispose();
    this.principal = next;
    this.second = watch.add(this, next.expiresAt);
    return true;
  }

  dispose(): void {
    if (this.second !== undefined) watch.remove(this, this.second);
    this.second = undefined;
  }

  /** Called by the watch once the lease's second has come. */
  check(now: number): void {
    this.second = undefined;
    if (this.principal.expiresAt <= now) this.holder.tokenExpired();
    else this.second = watch.add(this, this.principal.expiresAt);
  }
}
