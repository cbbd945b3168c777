/**
 * Who may subscribe to which channel on the notifications socket and SSE stream:
 * - `general`: every authenticated user (subscribed automatically).
 * - `user_{id}`: only that user (subscribed automatically). Never another user's, whatever the token's scopes.
 * - custom channels (CUSTOM_CHANNEL_PATTERN, e.g. `team-42`, `release-notes`): public topics, any authenticated user;
 *   anything secret goes to users by id, not to a custom channel.
 * - `jobs.{id}`: not here; jobs are followed on /realtime/generation (where ownership is checked).
 * - `presence.{presentation_id}` and `chat.{presentation_id}`: whoever may read the presentation
 *   (server/access/policy.ts: its members, and admins), and only while they may: a member removed from the
 *   presentation loses the subscription (`watch`).
 * - `status.{user_id}`: whoever may see that user's status (server/access/policy.ts canSeeStatus: the user, admins,
 *   and anyone sharing a presentation with the user), checked when subscribing.
 */
import type { ChannelRef } from '../../shared/channels.js';
import type { ErrorCode } from '../../shared/errors.js';
import { can, type Role } from '../access/policy.js';
import type { Principal } from '../auth/jwt.js';

/** The principal's effective role on a presentation (server/access/policy.ts roleFor), null when none. */
export type PresentationRoleLookup = (principal: Principal, presentationId: string) => Promise<Role | null>;
/** Calls `onRevoked` once the principal may no longer read the presentation; resolves with a function that stops. */
export type MembershipWatcher = (principal: Principal, presentationId: string, onRevoked: () => void) => Promise<() => void>;

export interface ChannelPolicyDeps {
  roleOn: PresentationRoleLookup;
  /** Whether the principal may see the status of `userId`. */
  mayFollowStatus: (principal: Principal, userId: string) => Promise<boolean>;
  /** Ends subscriptions to presentation channels when the subscriber stops being a member. */
  watchMembership: MembershipWatcher;
}

export type PolicyDecision = { ok: true } | { ok: false; code: ErrorCode; message: string };

const allowed: PolicyDecision = { ok: true };
const notAMember: PolicyDecision = { ok: false, code: 'PERMISSION_DENIED', message: 'not a member of this presentation' };

export class ChannelPolicy {
  constructor(private readonly deps: ChannelPolicyDeps) {}

  async authorize(principal: Principal, ref: ChannelRef): Promise<PolicyDecision> {
    switch (ref.kind) {
      case 'general':
      case 'custom':
        return allowed;
      case 'user':
        return ref.userId === principal.userId
          ? allowed
          : { ok: false, code: 'PERMISSION_DENIED', message: 'you may only subscribe to your own user channel' };
      case 'job':
        return { ok: false, code: 'PERMISSION_DENIED', message: 'follow jobs on /api/v1/realtime/generation/{job_id}' };
      case 'presence':
      case 'chat':
        return can(await this.deps.roleOn(principal, ref.presentationId), 'read') ? allowed : notAMember;
      case 'status':
        return (await this.deps.mayFollowStatus(principal, ref.userId))
          ? allowed
          : { ok: false, code: 'PERMISSION_DENIED', message: 'you share no presentation with this user' };
    }
  }

  /**
   * For a channel whose access can be lost while subscribed (presence and chat: membership of the presentation),
   * calls `onRevoked` once when it is; resolves with a function that stops watching. Other channels: nothing to watch.
   */
  async watch(principal: Principal, ref: ChannelRef, onRevoked: () => void): Promise<() => void> {
    if (ref.kind !== 'presence' && ref.kind !== 'chat') return () => {};
    return this.deps.watchMembership(principal, ref.presentationId, onRevoked);
  }
}
