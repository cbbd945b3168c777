/**
 * The access policy applied to one presentation: the caller's effective role when it may perform `action`, else the
 * domain error (NOT_FOUND when the presentation does not exist, PERMISSION_DENIED for a stranger or a role that may
 * not act). Used by the routes under `/presentations/{id}/…` of versions and activity.
 */
import { can, roleFor, type Action, type Role } from './policy.js';
import { hasScope, type Principal } from '../auth/jwt.js';
import type { PresentationStore } from '../store/presentations.js';
import { DomainError } from '../errors.js';

export async function requirePresentationRole(
  presentations: PresentationStore,
  presentationId: string,
  principal: Principal,
  action: Action,
): Promise<Role> {
  const role = await roleFor(principal, (userId) => presentations.roleOf(presentationId, userId));
  // Admins act as owners of every presentation, existing or not: the existence check covers them too.
  if (!role || hasScope(principal, 'admin')) {
    if (!(await presentations.get(presentationId))) throw new DomainError('NOT_FOUND', `presentation ${presentationId} not found`);
  }
  if (!role) throw new DomainError('PERMISSION_DENIED', 'not a member of this presentation');
  if (!can(role, action)) throw new DomainError('PERMISSION_DENIED', `a ${role} may not ${action.replace(/_/g, ' ')} here`);
  return role;
}
