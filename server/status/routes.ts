/**
 * User status over REST: `PUT /api/v1/status` (the caller's own) and `GET /api/v1/status/{user_id}` (the user, admins,
 * and anyone sharing a presentation with the user). Changes are followed on channel `status.{user_id}`.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { STATUS_MESSAGE_MAX_LENGTH } from '../../shared/status.js';
import type { TokenVerifier } from '../auth/jwt.js';
import { principalOf, requireUser } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import type { StatusService } from './status-service.js';

const ChosenStatusSchema = Type.Union([Type.Literal('online'), Type.Literal('away'), Type.Literal('busy')]);
const SetStatusBody = Type.Object(
  {
    status: ChosenStatusSchema,
    message: Type.Optional(
      Type.Union([Type.String({ maxLength: STATUS_MESSAGE_MAX_LENGTH }), Type.Null()], { description: 'omitted or null: no message' }),
    ),
  },
  { additionalProperties: false },
);
const UserParams = Type.Object({ user_id: Type.String({ minLength: 1, maxLength: 256 }) });
const UserStatusSchema = Type.Object({
  user_id: Type.String(),
  status: Type.Union([ChosenStatusSchema, Type.Literal('offline')]),
  message: Type.Union([Type.String(), Type.Null()]),
  last_seen: Type.Union([Type.String(), Type.Null()]),
});
const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 429: ErrorResponseSchema };

export function registerStatusRoutes(app: FastifyInstance, verifier: TokenVerifier, status: StatusService): void {
  const onRequest = requireUser(verifier);

  app.put<{ Body: Static<typeof SetStatusBody> }>(
    '/api/v1/status',
    {
      onRequest,
      schema: {
        tags: ['status'],
        summary: 'Choose one’s status (online, away, busy) and message; shown while connected anywhere, else offline',
        body: SetStatusBody,
        response: { 200: UserStatusSchema, ...errors },
      },
    },
    async (request) => status.set(principalOf(request), request.body.status, request.body.message ?? null),
  );

  app.get<{ Params: Static<typeof UserParams> }>(
    '/api/v1/status/:user_id',
    {
      onRequest,
      schema: {
        tags: ['status'],
        summary: 'A user’s status: online, away, busy, or offline (no live connection on any instance)',
        params: UserParams,
        response: { 200: UserStatusSchema, ...errors },
      },
    },
    async (request) => status.get(principalOf(request), request.params.user_id),
  );
}
