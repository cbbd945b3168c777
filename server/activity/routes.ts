/** `GET /api/v1/presentations/{id}/activity?limit=&before=`: the presentation's events, newest first (members). */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ActivityListSchema, ListActivityQuery } from '../../shared/activity.js';
import { PRESENTATION_ID_PATTERN } from '../../shared/presentation.js';
import type { TokenVerifier } from '../auth/jwt.js';
import { principalOf, requireUser } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import { requirePresentationRole } from '../access/presentation-role.js';
import type { PresentationStore } from '../store/presentations.js';
import type { ActivityLog } from './activity-log.js';

const IdParams = Type.Object({ id: Type.String({ pattern: PRESENTATION_ID_PATTERN }) });

export interface ActivityRoutesDeps {
  verifier: TokenVerifier;
  presentations: PresentationStore;
  activity: ActivityLog;
}

export function registerActivityRoutes(app: FastifyInstance, deps: ActivityRoutesDeps): void {
  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ListActivityQuery> }>(
    '/api/v1/presentations/:id/activity',
    {
      onRequest: requireUser(deps.verifier),
      schema: {
        tags: ['activity'],
        summary: 'What happened to the presentation (locks, members, versions, restores), newest first (members)',
        params: IdParams,
        querystring: ListActivityQuery,
        response: { 200: ActivityListSchema, 400: ErrorResponseSchema, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      await requirePresentationRole(deps.presentations, id, principalOf(request), 'read');
      return deps.activity.list(id, request.query.limit ?? 50, request.query.before);
    },
  );
}
