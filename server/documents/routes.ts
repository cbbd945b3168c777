/**
 * The document over REST:
 * - `GET /api/v1/presentations/{id}/document` → the plain JSON document (members; service tokens with
 *   `documents:write`).
 * - `POST /api/v1/presentations/{id}/operations` {operations:[…]} → 200 {applied, slide_ids}: atomic (all or none),
 *   durable when answered; members who may edit, or a service token with `documents:write`, under the lock rules
 *   (LOCKED 423, PERMISSION_DENIED 403, INVALID_MESSAGE 400 with the failing operation's index in `details`).
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { Type, type Static } from 'typebox';
import { OperationsBody } from '../../shared/operations.js';
import { PRESENTATION_ID_PATTERN } from '../../shared/presentation.js';
import type { TokenVerifier } from '../auth/jwt.js';
import { principalOf, requireUser } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import { DomainError } from '../errors.js';
import { openCollaborationSocket, type CollaborationSocketDeps } from './collab-socket.js';
import type { DocumentService } from './document-service.js';

const IdParams = Type.Object({ id: Type.String({ pattern: PRESENTATION_ID_PATTERN }) });
const DocumentResponse = Type.Object({
  meta: Type.Record(Type.String(), Type.Unknown()),
  slides: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), body: Type.String(), notes: Type.String() })),
});
const AppliedResponse = Type.Object({
  applied: Type.Integer({ description: 'operations applied (all of the batch)' }),
  slide_ids: Type.Array(Type.String(), { description: 'ids of the slides the batch added, in batch order' }),
});
const errors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  423: ErrorResponseSchema,
  429: ErrorResponseSchema,
  500: ErrorResponseSchema,
};

const SocketParams = Type.Object({ presentation_id: Type.String({ pattern: PRESENTATION_ID_PATTERN }) });
const SocketQuery = Type.Object({ token: Type.Optional(Type.String({ description: 'JWT, for clients that cannot set headers' })) });

async function notAnUpgrade(): Promise<never> {
  throw new DomainError('INVALID_MESSAGE', 'this is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)');
}

export interface DocumentRoutesDeps extends CollaborationSocketDeps {
  verifier: TokenVerifier;
  documents: DocumentService;
}

export function registerDocumentRoutes(app: FastifyInstance, deps: DocumentRoutesDeps): void {
  const { documents } = deps;

  // `wsHandler` takes the upgrade (and keeps the route in OpenAPI); `handler` answers a plain GET.
  app.route<{ Params: Static<typeof SocketParams> }>({
    method: 'GET',
    url: '/api/v1/realtime/collaboration/:presentation_id',
    schema: {
      tags: ['realtime', 'documents'],
      summary:
        'WebSocket: the document as JSON (connected, edit_operation, edit_ack, user_joined, user_left, presence_update, cursor_update, locks, pong, error; edit_operation, presence_update, cursor_update, lock_slide, unlock_slide, ping, auth)',
      params: SocketParams,
      querystring: SocketQuery,
      response: { 400: ErrorResponseSchema },
    },
    wsHandler: (socket: WebSocket, request) => openCollaborationSocket(socket, request, request.params.presentation_id, deps),
    handler: notAnUpgrade,
  });
  const auth = requireUser(deps.verifier);

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/presentations/:id/document',
    {
      onRequest: auth,
      schema: {
        tags: ['documents'],
        summary: 'The presentation document as plain JSON (meta, slides in order)',
        params: IdParams,
        response: { 200: DocumentResponse, ...errors },
      },
    },
    async (request) => {
      await documents.authorize(principalOf(request), request.params.id, 'read');
      return documents.read(request.params.id);
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof OperationsBody> }>(
    '/api/v1/presentations/:id/operations',
    {
      onRequest: auth,
      schema: {
        tags: ['documents'],
        summary: 'Apply a batch of operations, all or none, durable when answered (editors; service tokens with documents:write)',
        params: IdParams,
        body: OperationsBody,
        response: { 200: AppliedResponse, ...errors },
      },
    },
    async (request) => {
      const actions = await documents.applyAs(principalOf(request), request.params.id, request.body.operations);
      return { applied: request.body.operations.length, slide_ids: actions.flatMap((a) => (a.kind === 'add_slide' ? [a.id] : [])) };
    },
  );
}
