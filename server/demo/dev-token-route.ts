/**
 * `POST /api/v1/dev/token {name, presentation_id?}` (development only): a token for a user named `name` (user id:
 * the name in lower case, `-` for anything but letters and digits), signed with this server's own generated dev
 * secret. Registered only while there is one (./index.ts: never with a configured JWT_SECRET or JWT_PUBLIC_KEY). With
 * `presentation_id`, the user is let in: the first caller creates the presentation and owns it, later callers who
 * are not members yet become editors, so several people can try the demo on one deck.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { PRESENTATION_ID_PATTERN } from '../../shared/presentation.js';
import { CREATOR_ROLE, type Role } from '../access/policy.js';
import { DomainError } from '../errors.js';
import { ErrorResponseSchema } from '../http/errors.js';

/** Demo tokens last 10 minutes: the page asks for a fresh one before that (the SDK's token function). */
export const DEV_TOKEN_TTL_SECONDS = 600;
/** The role of a demo user who joins a presentation someone else created. */
const JOINER_ROLE: Role = 'editor';

const Body = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\p{L}\\p{N}][\\p{L}\\p{N} ._-]*$' }),
    presentation_id: Type.Optional(Type.String({ pattern: PRESENTATION_ID_PATTERN })),
  },
  { additionalProperties: false },
);
const Reply = Type.Object({
  token: Type.String(),
  user_id: Type.String(),
  name: Type.String(),
  expires_at: Type.String(),
  role: Type.Union([Type.String(), Type.Null()]),
});

/** The user id of a display name: `Ana María` → `ana-maría` (letters and digits of any script are kept). */
export function userIdOf(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
}

export function registerDevTokenRoute(app: FastifyInstance): void {
  const { verifier, presentations, config } = app.deckhand;
  // Defence in depth: whoever registers this route, it never signs with a configured key.
  if (!config.jwt.generated) throw new Error('the dev token route needs the generated dev secret, not a configured JWT key');
  app.post<{ Body: Static<typeof Body> }>(
    '/api/v1/dev/token',
    {
      schema: {
        tags: ['dev'],
        summary: 'Development only: a token for a user name, and membership of a presentation (for the demo page)',
        body: Body,
        response: { 201: Reply, 400: ErrorResponseSchema, 429: ErrorResponseSchema },
      },
    },
    async (request, reply) => {
      const name = request.body.name.trim();
      const userId = userIdOf(name);
      if (!userId) throw new DomainError('INVALID_MESSAGE', 'the name needs at least one letter or digit');
      const presentationId = request.body.presentation_id;
      let role: Role | null = null;
      if (presentationId) {
        const { created } = await presentations.create(presentationId, userId);
        role = created ? CREATOR_ROLE : await presentations.roleOf(presentationId, userId);
        if (role === null) {
          await presentations.setRole(presentationId, userId, JOINER_ROLE);
          role = JOINER_ROLE;
        }
      }
      const token = verifier.sign({ sub: userId, name }, DEV_TOKEN_TTL_SECONDS);
      const expiresAt = new Date(Date.now() + DEV_TOKEN_TTL_SECONDS * 1000).toISOString();
      return reply.status(201).send({ token, user_id: userId, name, expires_at: expiresAt, role });
    },
  );
}
