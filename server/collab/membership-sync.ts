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
