/**
 * Who may subscribe to which channel on the notifications socket and SSE stream:
 * - `general`: every authenticated user (subscribed automatically).
 * - `user_{id}`: only that user (subscribed automatically). Never another user's, whatever the token's scopes.
 * - custom channels (CUSTOM_CHANNEL_PATTERN, e.g. `team-42`, `release-notes`): public topics, any authenticated user;
 *   anything secret goes to users by id, not to a custom channel.
 * - `jobs.{id}`: not here; jobs are followed on /realtime/generation (where ownership is checked).
 * - `presence.{presentation_id}`: refused until the presence feature installs its check with
 *   `setPresenceAuthorizer` (members of the presentation); this is the hook for it. With it comes a watch: a
 *   subscriber who stops being a member loses the subscription (`watch`).
 */
import type { Principal } from '../auth/jwt.js';
import type { ChannelRef } from '../../shared/channels.js';
import type { ErrorCode } from '../../shared/errors.js';

export type PresenceAuthorizer = (principal: Principal, presentationId: string) => Promise<boolean>;
/** Calls `onRevoked` once the principal may no longer follow the presentation's presence; resolves with a stop. */
export type PresenceWatcher = (principal: Principal, presentationId: string, onRevoked: () => void) => Promise<() => void>;

export type PolicyDecision = { ok: true } | { ok: false; code: ErrorCode; message: string };

export class ChannelPolicy {
  private presenceAuthorizer: PresenceAuthorizer | undefined;
  private presenceWatcher: PresenceWatcher | undefined;

  /** Installs the check for `presence.{id}` channels (e.g. "is a member of the presentation"), and its watch. */
  setPresenceAuthorizer(authorizer: PresenceAuthorizer, watcher?: PresenceWatcher): void {
    this.presenceAuthorizer = authorizer;
    this.presenceWatcher = watcher;
  }

  /**
   * For a channel whose access can be lost while subscribed (presence: membership), calls `onRevoked` when it is;
   * resolves with a function that stops watching. Other channels: nothing to watch.
   */
  async watch(principal: Principal, ref: ChannelRef, onRevoked: () => void): Promise<() => void> {
    if (ref.kind !== 'presence' || !this.presenceWatcher) return () => {};
    return this.presenceWatcher(principal, ref.presentationId, onRevoked);
  }

  async authorize(principal: Principal, ref: ChannelRef): Promise<PolicyDecision> {
    switch (ref.kind) {
      case 'general':
      case 'custom':
        return { ok: true };
      case 'user':
        return ref.userId === principal.userId
          ? { ok: true }
          : { ok: false, code: 'PERMISSION_DENIED', message: 'you may only subscribe to your own user channel' };
      case 'job':
        return { ok: false, code: 'PERMISSION_DENIED', message: 'follow jobs on /api/v1/realtime/generation/{job_id}' };
      case 'presence': {
        if (!this.presenceAuthorizer) return { ok: false, code: 'PERMISSION_DENIED', message: 'presence channels are not available' };
        const allowed = await this.presenceAuthorizer(principal, ref.presentationId);
        return allowed ? { ok: true } : { ok: false, code: 'PERMISSION_DENIED', message: 'not a member of this presentation' };
      }
    }
  }
}
