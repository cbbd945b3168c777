/**
 * The access policy: who may do what on a presentation, in one place. Every transport (the Yjs socket, the JSON
 * sockets, REST routes, presence and chat channels) asks here instead of comparing roles itself.
 *
 * Roles per presentation: viewer reads; commenter also writes comments (its own) and chat; editor edits everything
 * not locked by someone else, locks slides and restores versions; owner also manages members and deletes the
 * presentation. A token with the `admin` scope acts as an owner of every presentation. The creator of a presentation
 * is its owner, and a presentation always keeps one.
 *
 * Jobs: a job is read, followed and cancelled by the user it belongs to and by job services (`jobs:write`, or
 * `admin`); a user lists only their own jobs, a job service anyone's.
 *
 * User status: a user's status is seen by the user, by admins, and by anyone who shares a presentation with the user
 * (a member of one presentation both belong to); everyone else is a stranger to it.
 */
import { hasScope, type Principal } from '../auth/jwt.js';
import type { Role } from '../store/presentations.js';

export type { Role };

export type Action =
  /** Open the document, read members, presence, locks, versions, activity and chat (and mark chat read). */
  | 'read'
  /** Write under `comments` (a commenter: only comments it authored; resolving is open to all commenters). */
  | 'comment'
  /** Post, edit and delete one's own chat messages; typing indicators. */
  | 'chat'
  /** Change the document outside `comments` (subject to other users' locks). */
  | 'edit'
  /** Delete or rewrite other people's comments. */
  | 'moderate_comments'
  /** Take and release slide locks. */
  | 'lock'
  /** Create and restore versions. */
  | 'restore'
  /** Release a lock someone else holds. */
  | 'force_unlock'
  /** Add, change and remove members. */
  | 'manage_members'
  /** Delete other people's chat messages. */
  | 'moderate_chat'
  /** Delete the presentation. */
  | 'delete_presentation';

const RANK: Record<Role, number> = { viewer: 0, commenter: 1, editor: 2, owner: 3 };

/** The least role that may perform each action. */
const LEAST_ROLE: Record<Action, Role> = {
  read: 'viewer',
  comment: 'commenter',
  chat: 'commenter',
  edit: 'editor',
  moderate_comments: 'editor',
  lock: 'editor',
  restore: 'editor',
  force_unlock: 'owner',
  manage_members: 'owner',
  moderate_chat: 'owner',
  delete_presentation: 'owner',
};

/** Whether `role` (null: not a member) may perform `action`. */
export function can(role: Role | null, action: Action): boolean {
  return role !== null && RANK[role] >= RANK[LEAST_ROLE[action]];
}

/** Viewers are read-only on the document; everyone else writes something (commenters only comments). */
export function isReadOnly(role: Role): boolean {
  return !can(role, 'comment');
}

/** Whether the role's document writes are restricted to `comments` (the write guard confines them). */
export function isCommentOnly(role: Role): boolean {
  return can(role, 'comment') && !can(role, 'edit');
}

/** The role the creator of a presentation gets. */
export const CREATOR_ROLE: Role = 'owner';

/**
 * Whether changing a member's role from `current` to `next` (null: removing the member) leaves the presentation an
 * owner. `countOwners` is asked only when an owner would stop being one.
 */
export async function keepsAnOwner(current: Role | null, next: Role | null, countOwners: () => Promise<number>): Promise<boolean> {
  if (current !== 'owner' || next === 'owner') return true;
  return (await countOwners()) > 1;
}

/** Whether `principal` may read and follow the job that belongs to `jobUserId` (and list that user's jobs). */
export function canReadJob(principal: Principal, jobUserId: string): boolean {
  return principal.userId === jobUserId || hasScope(principal, 'jobs:write');
}

/**
 * Whether `principal` may see (read and follow) the status of `userId`. `sharePresentation` is asked only when the
 * token alone does not decide.
 */
export async function canSeeStatus(principal: Principal, userId: string, sharePresentation: () => Promise<boolean>): Promise<boolean> {
  if (principal.userId === userId || hasScope(principal, 'admin')) return true;
  return sharePresentation();
}

/** Whether `principal` may cancel the job that belongs to `jobUserId`: its user, or a job service. */
export function canCancelJob(principal: Principal, jobUserId: string): boolean {
  return principal.userId === jobUserId || hasScope(principal, 'jobs:write');
}

/** The principal's effective role: `admin` acts as owner; otherwise the stored membership (or null). */
export function effectiveRole(principal: Principal, memberRole: Role | null): Role | null {
  return hasScope(principal, 'admin') ? 'owner' : memberRole;
}

/** Resolves the principal's effective role on a presentation from a role lookup (skipped for admins). */
export async function roleFor(principal: Principal, lookup: (userId: string) => Promise<Role | null>): Promise<Role | null> {
  if (hasScope(principal, 'admin')) return 'owner';
  return lookup(principal.userId);
}

/**
 * The role a principal writes a presentation's document with through the operations API and the JSON socket:
 * `admin` acts as owner; a service token with `documents:write` as an editor (at least), under the same lock rules;
 * otherwise the stored membership. `viaScope` says the role came from a scope, not from a membership (the caller
 * must then check that the presentation exists).
 */
export async function documentRoleFor(
  principal: Principal,
  lookup: (userId: string) => Promise<Role | null>,
): Promise<{ role: Role | null; viaScope: boolean }> {
  if (hasScope(principal, 'admin')) return { role: 'owner', viaScope: true };
  const member = await lookup(principal.userId);
  if (principal.scopes.has('documents:write') && !can(member, 'edit')) return { role: 'editor', viaScope: true };
  return { role: member, viaScope: false };
}
