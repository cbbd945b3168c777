/**
 * Slide locks over REST: `GET|POST|DELETE /api/v1/presentations/{id}/locks[/{slide_id}]`.
 * A lock taken over REST is held by the user (connection id `rest:{user}`) until released or expired; the same
 * user's editor connection may edit the slide, and re-taking it from an editor moves it there.
 */
import { throwIfRefused } from '../collab/locks/acquire-refusal.js';
import { can, roleFor } from '../access/policy.js';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { colourFor } from '../../shared/colour.js';
import { SLIDE_ID_PATTERN } from '../../shared/locks.js';
import { PRESENTATION_ID_PATTERN } from '../../shared/presentation.js';
import type { Principal, TokenVerifier } from '../auth/jwt.js';
import { toSlideLock, type LockService } from '../collab/locks/lock-service.js';
import type { LockTarget } from '../collab/locks/lock-store.js';
import { principalOf, requireUser } from '../http/auth.js';
import { DomainError } from '../errors.js';
import { ErrorResponseSchema } from '../http/errors.js';
import type { PresentationStore, Role } from '../store/presentations.js';
import type { ActivityRecorder } from '../activity/index.js';

const IdParams = Type.Object({ id: Type.String({ pattern: PRESENTATION_ID_PATTERN }) });
const SlideParams = Type.Object({
  id: Type.String({ pattern: PRESENTATION_ID_PATTERN }),
  slide_id: Type.String({ pattern: SLIDE_ID_PATTERN }),
});
const LockBody = Type.Object({ slide_id: Type.String({ pattern: SLIDE_ID_PATTERN }) }, { additionalProperties: false });
const LockSchema = Type.Object({
  slide_id: Type.String(),
  user_id: Type.String(),
  name: Type.String(),
  color: Type.String(),
  expires_at: Type.String(),
  acquired_at: Type.String(),
});
const errors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  423: ErrorResponseSchema,
  429: ErrorResponseSchema,
};

export interface LockRoutesDeps {
  verifier: TokenVerifier;
  presentations: PresentationStore;
  locks: LockService;
  /** Records lock changes (not renewals) in the presentation's activity. */
  activity?: ActivityRecorder;
  /** The existing slide to lock, or null (the document is loaded from the store when needed). */
  lockTarget(presentationId: string, slideId: string): Promise<LockTarget | null>;
}

export function registerLockRoutes(app: FastifyInstance, deps: LockRoutesDeps): void {
  const { presentations, locks } = deps;
  const auth = requireUser(deps.verifier);

  async function roleOf(id: string, principal: Principal): Promise<Role> {
    const role = await roleFor(principal, (userId) => presentations.roleOf(id, userId));
    if (role) return role;
    if (!(await presentations.get(id))) throw new DomainError('NOT_FOUND', `presentation ${id} not found`);
    throw new DomainError('PERMISSION_DENIED', 'not a member of this presentation');
  }

  async function acquire(id: string, slideId: string, principal: Principal) {
    const role = await roleOf(id, principal);
    if (!can(role, 'lock')) throw new DomainError('PERMISSION_DENIED', `a ${role} cannot lock slides`);
    const target = await deps.lockTarget(id, slideId);
    if (!target) throw new DomainError('NOT_FOUND', `slide ${slideId} does not exist`, { slide_id: slideId });
    const result = await locks.acquire(id, target, {
      userId: principal.userId,
      name: principal.name,
      color: colourFor(principal.userId),
      connectionId: `rest:${principal.userId}`,
    });
    throwIfRefused(slideId, result);
    if (result.changed) await deps.activity?.record(id, 'lock.acquired', principal, { slide_id: slideId });
    return toSlideLock(result.lock);
  }

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/presentations/:id/locks',
    {
      onRequest: auth,
      schema: {
        tags: ['locks'],
        summary: 'Current slide locks',
        params: IdParams,
        response: { 200: Type.Object({ locks: Type.Array(LockSchema) }), ...errors },
      },
    },
    async (request) => {
      await roleOf(request.params.id, principalOf(request));
      return { locks: (await locks.list(request.params.id)).map(toSlideLock) };
    },
  );

  app.get<{ Params: Static<typeof SlideParams> }>(
    '/api/v1/presentations/:id/locks/:slide_id',
    {
      onRequest: auth,
      schema: { tags: ['locks'], summary: 'One slide’s lock', params: SlideParams, response: { 200: LockSchema, ...errors } },
    },
    async (request) => {
      await roleOf(request.params.id, principalOf(request));
      const lock = (await locks.list(request.params.id)).find((l) => l.slideId === request.params.slide_id);
      if (!lock) throw new DomainError('NOT_FOUND', `slide ${request.params.slide_id} is not locked`);
      return toSlideLock(lock);
    },
  );

  app.post<{ Params: Static<typeof SlideParams> }>(
    '/api/v1/presentations/:id/locks/:slide_id',
    {
      onRequest: auth,
      schema: {
        tags: ['locks'],
        summary:
          'Lock an existing slide (editor or owner); renews a lock the caller holds; 423 LOCKED when another user holds it, 429 past the lock limits',
        params: SlideParams,
        response: { 201: LockSchema, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await acquire(request.params.id, request.params.slide_id, principalOf(request))),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof LockBody> }>(
    '/api/v1/presentations/:id/locks',
    {
      onRequest: auth,
      schema: { tags: ['locks'], summary: 'Lock a slide (body form)', params: IdParams, body: LockBody, response: { 201: LockSchema, ...errors } },
    },
    async (request, reply) => reply.status(201).send(await acquire(request.params.id, request.body.slide_id, principalOf(request))),
  );

  app.delete<{ Params: Static<typeof SlideParams> }>(
    '/api/v1/presentations/:id/locks/:slide_id',
    {
      onRequest: auth,
      schema: {
        tags: ['locks'],
        summary: 'Release a lock (its holder, or an owner to force it)',
        params: SlideParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const { id, slide_id: slideId } = request.params;
      const principal = principalOf(request);
      const role = await roleOf(id, principal);
      const lock = (await locks.list(id)).find((l) => l.slideId === slideId);
      if (!lock) throw new DomainError('NOT_FOUND', `slide ${slideId} is not locked`);
      const own = lock.userId === principal.userId;
      if (!own && !can(role, 'force_unlock'))
        throw new DomainError('PERMISSION_DENIED', `slide ${slideId} is locked by ${lock.name}; only an owner can force it`);
      if (await locks.release(id, slideId, principal.userId, !own)) {
        await deps.activity?.record(id, 'lock.released', principal, { slide_id: slideId, ...(own ? {} : { forced: true, holder: lock.userId }) });
      }
      return reply.status(204).send();
    },
  );
}
