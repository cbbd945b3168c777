/**
 * Presentations for dashboards: `GET /presentations` (mine, with my role, newest first, a page at a time) and
 * `DELETE /presentations/{id}` (owner or admin; ./presentation-deletion.ts). Creating, reading and members:
 * server/routes/presentations.ts.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { PresentationListQuery, PresentationListResponse } from '../../shared/dashboard-api.js';
import { PRESENTATION_ID_PATTERN } from '../../shared/presentation.js';
import type { TokenVerifier } from '../auth/jwt.js';
import { DomainError } from '../errors.js';
import { principalOf, requireUser } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import { decodePageCursor } from '../store/page-cursor.js';
import type { PresentationStore } from '../store/presentations.js';
import type { PresentationDeletion } from './presentation-deletion.js';

const IdParams = Type.Object({ id: Type.String({ pattern: PRESENTATION_ID_PATTERN }) });
const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema, 429: ErrorResponseSchema };

export interface PresentationDashboardDeps {
  verifier: TokenVerifier;
  presentations: PresentationStore;
  deletion: PresentationDeletion;
}

export function registerPresentationDashboardRoutes(app: FastifyInstance, deps: PresentationDashboardDeps): void {
  const auth = requireUser(deps.verifier);

  app.get<{ Querystring: Static<typeof PresentationListQuery> }>(
    '/api/v1/presentations',
    {
      onRequest: auth,
      schema: {
        tags: ['presentations'],
        summary: 'The presentations the caller is a member of, with its role, newest first, a page at a time',
        querystring: PresentationListQuery,
        response: { 200: PresentationListResponse, ...errors },
      },
    },
    async (request) => {
      const after = request.query.cursor === undefined ? undefined : decodePageCursor(request.query.cursor);
      if (after === null) throw new DomainError('INVALID_MESSAGE', 'cursor is not a next_cursor this server returned');
      const page = await deps.presentations.listForMember(principalOf(request).userId, request.query.limit ?? 20, after);
      return {
        presentations: page.presentations.map((p) => ({ id: p.id, title: p.title, role: p.role, created_at: p.createdAt, updated_at: p.updatedAt })),
        next_cursor: page.nextCursor,
      };
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/api/v1/presentations/:id',
    {
      onRequest: auth,
      schema: {
        tags: ['presentations'],
        summary: 'Delete a presentation (owner or admin): open connections closed on every instance, its document and rows gone',
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await deps.deletion.delete(principalOf(request), request.params.id);
      return reply.status(204).send();
    },
  );
}
