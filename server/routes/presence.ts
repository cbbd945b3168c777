/** `GET /api/v1/presentations/{id}/presence`: who is connected (on every instance), with status and current slide. */
import { can, roleFor } from '../access/policy.js';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { PRESENTATION_ID_PATTERN } from '../../shared/presentation.js';
import type { TokenVerifier } from '../auth/jwt.js';
import type { PresenceTracker } from '../collab/presence/presence-tracker.js';
import { principalOf, requireUser } from '../http/auth.js';
import { DomainError } from '../errors.js';
import { ErrorResponseSchema } from '../http/errors.js';
import type { PresentationStore } from '../store/presentations.js';

const IdParams = Type.Object({ id: Type.String({ pattern: PRESENTATION_ID_PATTERN }) });
const PresenceResponse = Type.Object({
  presentation_id: Type.String(),
  users: Type.Array(
    Type.Object({
      user_id: Type.String(),
      name: Type.String(),
      color: Type.String(),
      status: Type.Union([Type.Literal('active'), Type.Literal('idle'), Type.Literal('away')]),
      slide_id: Type.Union([Type.String(), Type.Null()]),
      connections: Type.Integer(),
      last_active_at: Type.String(),
    }),
  ),
  timestamp: Type.String(),
});

export function registerPresenceRoutes(
  app: FastifyInstance,
  deps: { verifier: TokenVerifier; presentations: PresentationStore; presence: PresenceTracker },
): void {
  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/presentations/:id/presence',
    {
      onRequest: requireUser(deps.verifier),
      schema: {
        tags: ['presentations'],
        summary: 'Who is connected, with status and current slide (members only)',
        params: IdParams,
        response: { 200: PresenceResponse, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = request.params;
      if (!can(await roleFor(principal, (userId) => deps.presentations.roleOf(id, userId)), 'read')) {
        if (!(await deps.presentations.get(id))) throw new DomainError('NOT_FOUND', `presentation ${id} not found`);
        throw new DomainError('PERMISSION_DENIED', 'not a member of this presentation');
      }
      return deps.presence.snapshot(id);
    },
  );
}
