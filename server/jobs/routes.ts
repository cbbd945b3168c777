/**
 * Jobs over REST: workers create jobs and post progress with a service token (`jobs:write` or `admin`); the job's
 * owner and job services read it, list it (`GET /jobs`) and cancel it. Live updates: /realtime/generation (WS) and /realtime/sse/generation (SSE), see
 * ./live-routes.ts.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { CancelJobBody, JobListQuery, JobListResponse } from '../../shared/dashboard-api.js';
import { CreateJobBody, JobIdSchema, JobProgressBody, JobResponse } from '../../shared/messages.js';
import { principalOf, requireScope, requireUser } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import type { JobsContext } from './context.js';
import { jobResponse } from './job-messages.js';

const IdParams = Type.Object({ id: JobIdSchema });
/** The content type Fastify gives a serialized JSON answer. */
const JSON_UTF8 = 'application/json; charset=utf-8';
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
    async (request, reply) => {
      const report = await ctx.jobs.report(request.params.id, request.body);
      if (report.reply === null) return jobResponse(report.job);
      // The step's JobResponse text, the serializer's bytes (../jobs/job-texts.ts), with the serializer's content type.
      reply.type(JSON_UTF8);
      return report.reply;
    },
  );

  app.get<{ Querystring: Static<typeof JobListQuery> }>(
    '/api/v1/jobs',
    {
      onRequest: requireUser(ctx.verifier),
      schema: {
        tags: ['jobs'],
        summary: 'The caller’s jobs, newest first, a page at a time (a job service may pass user_id)',
        querystring: JobListQuery,
        response: { 200: JobListResponse, ...errors },
      },
    },
    async (request) => {
      const page = await ctx.dashboard.list(principalOf(request), request.query);
      return { jobs: page.jobs.map(jobResponse), next_cursor: page.nextCursor };
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof CancelJobBody> }>(
    '/api/v1/jobs/:id/cancel',
    {
      onRequest: requireUser(ctx.verifier),
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a job (its user, or a job service): stored and published as `cancelled`; 409 once terminal',
        params: IdParams,
        body: CancelJobBody,
        response: { 200: JobResponse, ...errors },
      },
      // The body is optional: `POST /jobs/{id}/cancel` with nothing cancels without a reason.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => jobResponse(await ctx.dashboard.cancel(principalOf(request), request.params.id, request.body.reason)),
  );
}
