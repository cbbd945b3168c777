/**
 * `POST /probe/:id`, declared as `POST /api/v1/jobs/:id/progress` is (service token, params, body and response schemas),
 * answering a fixed job at once: every hook, schema and header of the progress route, none of the jobs service or bus.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requireScope } from '../../server/http/auth.js';
import { ErrorResponseSchema } from '../../server/http/errors.js';
import { JobIdSchema, JobProgressBody, JobResponse } from '../../shared/messages.js';

export function addProbeRoute(app: FastifyInstance): void {
  const at = new Date().toISOString();
  const job = {
    job_id: 'probe',
    user_id: 'bench-owner',
    kind: 'render',
    title: 'probe',
    status: 'processing',
    progress: 0.5,
    current_step: 'rendering',
    message: '[t=0]',
    estimated_completion: null,
    result: null,
    error: null,
    created_at: at,
    updated_at: at,
    completed_at: null,
  };
  app.post(
    '/probe/:id',
    {
      onRequest: requireScope(app.deckhand.verifier, 'jobs:write'),
      schema: {
        params: Type.Object({ id: JobIdSchema }),
        body: JobProgressBody,
        response: { 200: JobResponse, 400: ErrorResponseSchema, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 429: ErrorResponseSchema },
      },
    },
    async () => job,
  );
}
