/**
 * Versions over REST, under `/api/v1/presentations/{id}/versions`: members list and read them; editors
 * and owners (`restore` in the access policy) create and restore them.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { PRESENTATION_ID_PATTERN } from '../../shared/presentation.js';
import {
  CreateVersionBody,
  ListVersionsQuery,
  RestoreResultSchema,
  VersionDocumentSchema,
  VersionIdSchema,
  VersionListSchema,
  VersionSummarySchema,
} from '../../shared/versions.js';
import type { TokenVerifier } from '../auth/jwt.js';
import { principalOf, requireUser } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import { requirePresentationRole } from '../access/presentation-role.js';
import type { PresentationStore } from '../store/presentations.js';
import type { VersionService } from './version-service.js';

const IdParams = Type.Object({ id: Type.String({ pattern: PRESENTATION_ID_PATTERN }) });
const VersionParams = Type.Object({ id: Type.String({ pattern: PRESENTATION_ID_PATTERN }), version_id: VersionIdSchema });
const errors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  429: ErrorResponseSchema,
};

export interface VersionRoutesDeps {
  verifier: TokenVerifier;
  presentations: PresentationStore;
  versions: VersionService;
}

export function registerVersionRoutes(app: FastifyInstance, deps: VersionRoutesDeps): void {
  const { presentations, versions } = deps;
  const auth = requireUser(deps.verifier);

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof CreateVersionBody> }>(
    '/api/v1/presentations/:id/versions',
    {
      onRequest: auth,
      // The body is optional: an unnamed version.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags: ['versions'],
        summary: 'Take a version: a snapshot of the document as stored now (editors and owners)',
        params: IdParams,
        body: CreateVersionBody,
        response: { 201: VersionSummarySchema, ...errors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { id } = request.params;
      await requirePresentationRole(presentations, id, principal, 'restore');
      const version = await versions.create(id, principal, request.body.label?.trim() || null);
      return reply.status(201).send(version);
    },
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ListVersionsQuery> }>(
    '/api/v1/presentations/:id/versions',
    {
      onRequest: auth,
      schema: {
        tags: ['versions'],
        summary: 'Versions, newest first, a page at a time (members)',
        params: IdParams,
        querystring: ListVersionsQuery,
        response: { 200: VersionListSchema, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params;
      await requirePresentationRole(presentations, id, principalOf(request), 'read');
      return versions.list(id, request.query.limit ?? 20, request.query.cursor);
    },
  );

  app.get<{ Params: Static<typeof VersionParams> }>(
    '/api/v1/presentations/:id/versions/:version_id',
    {
      onRequest: auth,
      schema: {
        tags: ['versions'],
        summary: 'The document as it was in a version, as plain JSON (members)',
        params: VersionParams,
        response: { 200: VersionDocumentSchema, ...errors },
      },
    },
    async (request) => {
      const { id, version_id: versionId } = request.params;
      await requirePresentationRole(presentations, id, principalOf(request), 'read');
      return versions.document(id, versionId);
    },
  );

  app.post<{ Params: Static<typeof VersionParams> }>(
    '/api/v1/presentations/:id/versions/:version_id/restore',
    {
      onRequest: auth,
      schema: {
        tags: ['versions'],
        summary:
          'Make the live document equal a version by a new forward change, after taking a backup version (editors and owners); 423 LOCKED if it would change a slide someone else holds',
        params: VersionParams,
        response: { 200: RestoreResultSchema, 423: ErrorResponseSchema, 500: ErrorResponseSchema, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id, version_id: versionId } = request.params;
      await requirePresentationRole(presentations, id, principal, 'restore');
      return versions.restore(id, versionId, principal);
    },
  );
}
