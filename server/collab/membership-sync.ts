/**
 * Role changes reach open connections on every instance (design §3: within 2 s): the members API publishes
 * `{user_id, role}` (role null = removed) on the bus channel `collab.members.{presentationId}`; every instance that
 * has the document loaded applies it to its own connections (a removed user is disconnected, a demoted editor
 * becomes read-only, a promoted viewer may write).
 */
import type { afterLoadDocumentPayload, afterUnloadDocumentPayload, Extension } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import { presentationIdOf } from '../../shared/presentation.js';
import type { Bus, Unsubscribe } from '../bus/types.js';
import { can, effectiveRole } from '../access/policy.js';
import type { Principal } from '../auth/jwt.js';
import { isRole, type Role } from '../store/presentations.js';

export const membersChannel = (presentationId: string): string => `collab.members.${presentationId}`;

export interface RoleChange {
  user_id: string;
  role: Role | null;
}

export class MembershipSync implements Extension {
  extensionName = 'deckhand-membership-sync';
  private readonly subscriptions = new Map<string, Promise<Unsubscribe>>();

  constructor(
    private readonly bus: Bus,
    private readonly apply: (presentationId: string, userId: string, role: Role | null) => void,
    private readonly logger: FastifyBaseLogger,
  ) {}

  /** Announces a change to every instance (this one included). */
  async publish(presentationId: string, change: RoleChange): Promise<void> {
    await this.bus.publish(membersChannel(presentationId), JSON.stringify(change));
  }

  async afterLoadDocument({ documentName }: afterLoadDocumentPayload): Promise<void> {
    const presentationId = presentationIdOf(documentName);
    if (!presentationId || this.subscriptions.has(presentationId)) return;
    const subscription = this.bus.subscribe(membersChannel(presentationId), {
      event: (event) => {
        const change = event.json() as Partial<RoleChange> | undefined;
        if (!change || typeof change.user_id !== 'string' || !(change.role === null || isRole(change.role))) return;
        this.apply(presentationId, change.user_id, change.role);
      },
    });
    this.subscriptions.set(presentationId, subscription);
    await subscription.catch((err: unknown) => {
      this.subscriptions.delete(presentationId);
      this.logger.warn({ err, presentationId }, 'could not follow role changes');
    });
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    const presentationId = presentationIdOf(documentName);
    const subscription = presentationId ? this.subscriptions.get(presentationId) : undefined;
    if (!presentationId || !subscription) return;
    this.subscriptions.delete(presentationId);
    (await subscription.catch(() => () => {}))();
  }
}

/**
 * Watches one principal's membership of a presentation (every instance hears the change on the bus): calls
 * `onRevoked` once when it may no longer read the presentation (removed; an admin never is). After subscribing it
 * checks `stillAllowed` once, so a removal between the caller's own check and the subscription is not missed.
 * Resolves with a function that stops watching.
 */
export async function watchMembership(
  bus: Bus,
  presentationId: string,
  principal: Principal,
  stillAllowed: () => Promise<boolean>,
  onRevoked: () => void,
): Promise<() => void> {
  let finished = false;
  let unsubscribe: Unsubscribe | undefined;
  const stop = () => {
    finished = true;
    unsubscribe?.();
    unsubscribe = undefined;
  };
  const revoke = () => {
    if (finished) return;
    stop();
    onRevoked();
  };
  const subscription = await bus.subscribe(membersChannel(presentationId), {
    event: (event) => {
      const change = event.json() as Partial<RoleChange> | undefined;
      if (!change || change.user_id !== principal.userId || !(change.role === null || isRole(change.role))) return;
      if (!can(effectiveRole(principal, change.role), 'read')) revoke();
    },
  });
  if (finished) subscription();
  else unsubscribe = subscription;
  if (!(await stillAllowed().catch(() => true))) revoke();
  return stop;
}
