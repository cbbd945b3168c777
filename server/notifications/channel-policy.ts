/**
 * Who may subscribe to which channel on the notifications socket and SSE stream:
 * - `general`: every authenticated user (subscribed automatically).
 * - `user_{id}`: only that user (subscribed automatically). Never another user's, whatever the token's scopes.
 * - custom channels (CUSTOM_CHANNEL_PATTERN, e.g. `team-42`, `release-notes`): public topics, any authenticated user;
 *   anything secret goes to users by id, not to a custom channel.
 * - `jobs.{id}`: not here; jobs are followed on /realtime/generation (where ownership is checked).
 * - `presence.{presentation_id}`: whoever may read the presentation (server/access/policy.ts: its members, and
 *   admins).
 */
import type { ChannelRef } from '../../shared/channels.js';
import type { ErrorCode } from '../../shared/errors.js';
import { can, type Role } from '../access/policy.js';
import type { Principal } from '../auth/jwt.js';

/** The principal's effective role on a presentation (server/access/policy.ts roleFor), null when none. */
export type PresentationRoleLookup = (principal: Principal, presentationId: string) => Promise<Role | null>;

export type PolicyDecision = { ok: true } | { ok: false; code: ErrorCode; message: string };

export class ChannelPolicy {
  constructor(private readonly roleOn: PresentationRoleLookup) {}

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
      case 'presence':
        return can(await this.roleOn(principal, ref.presentationId), 'read')
          ? { ok: true }
          : { ok: false, code: 'PERMISSION_DENIED', message: 'not a member of this presentation' };
    }
  }
}
