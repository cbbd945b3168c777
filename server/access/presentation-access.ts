/**
 * The access policy applied to one presentation, for services that act on it from any transport (REST, sockets):
 * the caller's effective role, or the contract's refusal as a DomainError — NOT_FOUND when the presentation does not
 * exist, PERMISSION_DENIED for a stranger or for a role that may not perform the action.
 */
import { hasScope, type Principal } from '../auth/jwt.js';
import { DomainError } from '../errors.js';
import type { PresentationStore } from '../store/presentations.js';
import { can, roleFor, type Action, type Role } from './policy.js';

export class PresentationAccess {
  constructor(private readonly presentations: PresentationStore) {}

  /** The principal's effective role (admins act as owners), null for a stranger. */
  roleOf(principal: Principal, presentationId: string): Promise<Role | null> {
    return roleFor(principal, (userId) => this.presentations.roleOf(presentationId, userId));
  }

  /** The principal's role when it may perform `action` on the presentation; refuses otherwise. */
  async require(principal: Principal, presentationId: string, action: Action): Promise<Role> {
    const role = await this.roleOf(principal, presentationId);
    // Admins act as owners of every presentation, existing or not: the existence check covers them too.
    if (!role || hasScope(principal, 'admin')) {
      if (!(await this.presentations.get(presentationId))) throw new DomainError('NOT_FOUND', `presentation ${presentationId} not found`);
    }
    if (!role) throw new DomainError('PERMISSION_DENIED', 'not a member of this presentation');
    if (!can(role, action)) throw new DomainError('PERMISSION_DENIED', `a ${role} may not ${action.replace(/_/g, ' ')} here`);
    return role;
  }
}
