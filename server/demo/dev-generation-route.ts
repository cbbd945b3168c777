/**
 * `POST /api/v1/dev/generation {topic?, slides?, presentation_id?}` (development only, any signed-in user): creates a
 * generation job for the caller and runs the demo generator on it (generation-simulator.ts). With `presentation_id`
 * (a deck the caller may edit) the generator writes each slide into it as it drafts it, through the operations API
 * (slide-writer.ts). Answers 202 with the job id; follow it on `/api/v1/realtime/…/generation/{job_id}`; the slides
 * are also in `GET /api/v1/jobs/{job_id}` `result`.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { PRESENTATION_ID_PATTERN } from '../../shared/presentation.js';
import { principalOf, requireUser } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import { GenerationSimulator } from './generation-simulator.js';
import { httpSlideWriter } from './slide-writer.js';

const Body = Type.Object(
  {
    topic: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    slides: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })),
    presentation_id: Type.Optional(
      Type.String({ pattern: PRESENTATION_ID_PATTERN, description: 'write the slides into this deck as they are drafted' }),
    ),
  },
  { additionalProperties: false },
);

export function registerDevGenerationRoute(app: FastifyInstance): void {
  const { verifier, jobs, lifecycle, documents } = app.deckhand;
  const simulator = new GenerationSimulator(jobs, app.log);
  lifecycle.onStop('demo generation', () => simulator.stopAll());

  app.post<{ Body: Static<typeof Body> }>(
    '/api/v1/dev/generation',
    {
      onRequest: requireUser(verifier),
      schema: {
        tags: ['dev'],
        summary: 'Development only: start a simulated slide generation job for the caller',
        body: Body,
        response: {
          202: Type.Object({ job_id: Type.String() }),
          400: ErrorResponseSchema,
          401: ErrorResponseSchema,
          403: ErrorResponseSchema,
          404: ErrorResponseSchema,
          429: ErrorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { userId } = principal;
      const presentationId = request.body.presentation_id;
      // The generator may write into any deck: only into one the caller may edit.
      if (presentationId) await documents.authorize(principal, presentationId, 'edit');
      const topic = request.body.topic?.trim() || 'Quarterly review';
      const job = await jobs.create({ user_id: userId, kind: 'demo-generation', title: `Slides about ${topic}` });
      const writer = presentationId ? httpSlideWriter(app.listeningOrigin, verifier, presentationId) : undefined;
      simulator.start(job.id, topic, request.body.slides ?? 4, writer);
      return reply.status(202).send({ job_id: job.id });
    },
  );
}
