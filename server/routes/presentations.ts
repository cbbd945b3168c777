/**
 * Presentations and members over REST: create, read, list/set/remove members.
 * A member change reaches open collaboration connections on every instance, the member and the presence channel
 * (server/presentations/membership-announcer.ts). Listing and deleting: server/presentations/routes.ts.
 */
import { can, CREATOR_ROLE, keepsAnOwner, roleFor } from '../access/policy.js';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { PRESENTATION_ID_PATTERN } from '../../shared/presentation.js';
import type { Principal, TokenVerifier } from '../auth/jwt.js';
import { principalOf, requireUser } from '../http/auth.js';
import { DomainError } from '../errors.js';
import { ErrorResponseSchema } from '../http/errors.js';
import type { PresentationStore, Role } from '../store/presentations.js';
import type { ActivityRecorder } from '../activity/index.js';

const IdParams = Type.Object({ id: Type.String({ pattern: PRESENTATION_ID_PATTERN }) });
const MemberParams = Type.Object({
  id: Type.String({ pattern: PRESENTATION_ID_PATTERN }),
  user_id: Type.String({ minLength: 1, maxLength: 256 }),
});
const RoleSchema = Type.Union([Type.Literal('owner'), Type.Literal('editor'), Type.Literal('commenter'), Type.Literal('viewer')]);
const CreateBody = Type.Object({ title: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false });
const SetRoleBody = Type.Object({ role: RoleSchema }, { additionalProperties: false });
const PresentationResponse = Type.Object({
  id: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
  created_by: Type.String(),
  created_at: Type.String(),
  role: Type.Union([RoleSchema, Type.Null()]),
  document: Type.String(),
});
const MemberResponse = Type.Object({ user_id: Type.String(), role: RoleSchema, updated_at: Type.String() });
const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema };

export interface PresentationRoutesDeps {
  verifier: TokenVerifier;
  presentations: PresentationStore;
  /** Called after a member was added, changed role (role) or was removed (null); `previous`: the role before. */
  onRoleChange: (presentationId: string, userId: string, role: Role | null, change: { previous: Role | null; by: Principal }) => void | Promise<void>;
  /** Records creation and member changes in the presentation's activity. */
  activity?: ActivityRecorder;
}

export function registerPresentationRoutes(app: FastifyInstance, deps: PresentationRoutesDeps): void {
  const { presentations } = deps;
  const auth = requireUser(deps.verifier);

  async function roleOrThrow(id: string, principal: Principal): Promise<Role> {
    const presentation = await presentations.get(id);
    if (!presentation) throw new DomainError('NOT_FOUND', `presentation ${id} not found`);
    const role = await roleFor(principal, (userId) => presentations.roleOf(id, userId));
    if (!role) throw new DomainError('PERMISSION_DENIED', 'not a member of this presentation');
    return role;
  }

  async function view(id: string, role: Role | null): Promise<Static<typeof PresentationResponse>> {
    const p = await presentations.get(id);
    if (!p) throw new DomainError('NOT_FOUND', `presentation ${id} not found`);
    return { id: p.id, title: p.title, created_by: p.createdBy, created_at: p.createdAt, role, document: `presentation:${p.id}` };
  }

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof CreateBody> }>(
    '/api/v1/presentations/:id',
    {
      onRequest: auth,
      schema: {
        tags: ['presentations'],
        summary: 'Create a presentation (the caller becomes its owner); idempotent for its owner',
        params: IdParams,
        body: CreateBody,
        response: { 200: PresentationResponse, 201: PresentationResponse, ...errors },
      },
      // The body is optional: `PUT /presentations/deck1` with nothing creates an untitled presentation.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { id } = request.params;
      const title = request.body?.title ?? null;
      const { created } = await presentations.create(id, principal.userId, title, { reviveDeleted: true });
      if (created) {
        await deps.activity?.record(id, 'presentation.created', principal, { title });
        return reply.status(201).send(await view(id, CREATOR_ROLE));
      }
      const role = await roleFor(principal, (userId) => presentations.roleOf(id, userId));
      if (!can(role, 'manage_members')) throw new DomainError('CONFLICT', `presentation ${id} already exists`);
      if (request.body?.title !== undefined) await presentations.updateTitle(id, title);
      return reply.status(200).send(await view(id, role));
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/presentations/:id',
    {
      onRequest: auth,
      schema: {
        tags: ['presentations'],
        summary: 'A presentation and the caller’s role',
        params: IdParams,
        response: { 200: PresentationResponse, ...errors },
      },
    },
    async (request) => {
      const role = await roleOrThrow(request.params.id, principalOf(request));
      return view(request.params.id, role);
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/presentations/:id/members',
    {
      onRequest: auth,
      schema: {
        tags: ['presentations'],
        summary: 'Members and their roles (any member may list)',
        params: IdParams,
        response: { 200: Type.Object({ members: Type.Array(MemberResponse) }), ...errors },
      },
    },
    async (request) => {
      await roleOrThrow(request.params.id, principalOf(request));
      const members = await presentations.members(request.params.id);
      return { members: members.map((m) => ({ user_id: m.userId, role: m.role, updated_at: m.updatedAt })) };
    },
  );

  app.put<{ Params: Static<typeof MemberParams>; Body: Static<typeof SetRoleBody> }>(
    '/api/v1/presentations/:id/members/:user_id',
    {
      onRequest: auth,
      schema: {
        tags: ['presentations'],
        summary: 'Set a member’s role (owner only)',
        params: MemberParams,
        body: SetRoleBody,
        response: { 200: MemberResponse, ...errors },
      },
    },
    async (request) => {
      const { id, user_id: userId } = request.params;
      const principal = principalOf(request);
      const callerRole = await roleOrThrow(id, principal);
      if (!can(callerRole, 'manage_members')) throw new DomainError('PERMISSION_DENIED', 'only an owner manages members');
      const current = await presentations.roleOf(id, userId);
      if (!(await keepsAnOwner(current, request.body.role, () => presentations.ownerCount(id)))) {
        throw new DomainError('CONFLICT', 'a presentation keeps at least one owner');
      }
      await presentations.setRole(id, userId, request.body.role);
      await deps.onRoleChange(id, userId, request.body.role, { previous: current, by: principal });
      if (current !== request.body.role) {
        const details = { user_id: userId, role: request.body.role, ...(current ? { previous_role: current } : {}) };
        await deps.activity?.record(id, current ? 'member.role_changed' : 'member.added', principal, details);
      }
      const member = (await presentations.members(id)).find((m) => m.userId === userId);
      return { user_id: userId, role: request.body.role, updated_at: member?.updatedAt ?? new Date().toISOString() };
    },
  );

  app.delete<{ Params: Static<typeof MemberParams> }>(
    '/api/v1/presentations/:id/members/:user_id',
    {
      onRequest: auth,
      schema: {
        tags: ['presentations'],
        summary: 'Remove a member (owner, or the member itself)',
        params: MemberParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const { id, user_id: userId } = request.params;
      const principal = principalOf(request);
      const callerRole = await roleOrThrow(id, principal);
      if (!can(callerRole, 'manage_members') && principal.userId !== userId) {
        throw new DomainError('PERMISSION_DENIED', 'only an owner removes other members');
      }
      const current = await presentations.roleOf(id, userId);
      if (!current) throw new DomainError('NOT_FOUND', `${userId} is not a member`);
      if (!(await keepsAnOwner(current, null, () => presentations.ownerCount(id)))) {
        throw new DomainError('CONFLICT', 'a presentation keeps at least one owner');
      }
      await presentations.removeMember(id, userId);
      await deps.onRoleChange(id, userId, null, { previous: current, by: principal });
      await deps.activity?.record(id, 'member.removed', principal, { user_id: userId, previous_role: current });
      return reply.status(204).send();
    },
  );
}
