/**
 * A connection's token lifetime (a token's `exp` is required): when the token expires the connection is closed with
 * AUTHENTICATION_FAILED, unless the client sent a fresh token for the same user first (`renew`).
 */
import { MAX_TIMER_MS } from '../../shared/timers.js';
import type { Principal } from '../auth/jwt.js';

export class TokenLease {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private principal: Principal,
    private readonly onExpired: () => void,
  ) {
    this.arm();
  }

  get current(): Principal {
    return this.principal;
  }

  /** Replaces the token; false (and nothing changes) when it is for another user. */
  renew(next: Principal): boolean {
    if (next.userId !== this.principal.userId) return false;
    this.principal = next;
    this.arm();
    return true;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    clearTimeout(this.timer);
    const left = this.principal.expiresAt - Date.now();
    this.timer = setTimeout(() => (this.principal.expiresAt <= Date.now() ? this.onExpired() : this.arm()), Math.min(Math.max(0, left), MAX_TIMER_MS));
    this.timer.unref();
  }
}
