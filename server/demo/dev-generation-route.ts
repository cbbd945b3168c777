/**
 * `POST /api/v1/dev/generation {topic?, slides?}` (development only, any signed-in user): creates a generation job
 * for the caller and runs the demo generator on it (generation-simulator.ts). Answers 202 with the job id; follow it
 * on `/api/v1/realtime/…/generation/{job_id}` and read the slides from `GET /api/v1/jobs/{job_id}` `result`.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { principalOf, requireUser } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import { GenerationSimulator } from './generation-simulator.js';

const Body = Type.Object(
  {
    topic: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    slides: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })),
  },
  { additionalProperties: false },
);

export function registerDevGenerationRoute(app: FastifyInstance): void {
  const { verifier, jobs, lifecycle } = app.deckhand;
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
          429: ErrorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const { userId } = principalOf(request);
      const topic = request.body.topic?.trim() || 'Quarterly review';
      const job = await jobs.create({ user_id: userId, kind: 'demo-generation', title: `Slides about ${topic}` });
      simulator.start(job.id, topic, request.body.slides ?? 4);
      return reply.status(202).send({ job_id: job.id });
    },
  );
}
