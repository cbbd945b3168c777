/**
 * Jobs over REST: workers create jobs and post progress with a service token (`jobs:write` or `admin`); the job's
 * owner and job services read it. Live updates: /realtime/generation (WS) and /realtime/sse/generation (SSE), see
 * ./live-routes.ts.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { CreateJobBody, JobIdSchema, JobProgressBody, JobResponse } from '../../shared/messages.js';
import { principalOf, requireScope, requireUser } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import type { JobsContext } from './context.js';
import { jobResponse } from './job-messages.js';

const IdParams = Type.Object({ id: JobIdSchema });
const errors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  409: ErrorResponseSchema,
  429: ErrorResponseSchema,
};

export function registerJobRoutes(app: FastifyInstance, ctx: JobsContext): void {
  const service = requireScope(ctx.verifier, 'jobs:write');

  app.post<{ Body: Static<typeof CreateJobBody> }>(
    '/api/v1/jobs',
    {
      onRequest: service,
      schema: {
        tags: ['jobs'],
        summary: 'Create a job (service token: jobs:write); job_id is generated when omitted',
        body: CreateJobBody,
        response: { 201: JobResponse, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(jobResponse(await ctx.jobs.create(request.body))),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/jobs/:id',
    {
      onRequest: requireUser(ctx.verifier),
      schema: {
        tags: ['jobs'],
        summary: 'A job’s current state (its owner, or a service token)',
        params: IdParams,
        response: { 200: JobResponse, ...errors },
      },
    },
    async (request) => jobResponse(await ctx.jobs.readable(principalOf(request), request.params.id)),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof JobProgressBody> }>(
    '/api/v1/jobs/:id/progress',
    {
      onRequest: service,
      schema: {
        tags: ['jobs'],
        summary: 'Report progress (service token: jobs:write); 409 once the job is completed, failed or cancelled',
        params: IdParams,
        body: JobProgressBody,
        response: { 200: JobResponse, ...errors },
      },
    },
    async (request) => jobResponse(await ctx.jobs.progress(request.params.id, request.body)),
  );
}
