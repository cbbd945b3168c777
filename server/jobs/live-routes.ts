/**
 * Live job progress: `WS /api/v1/realtime/generation/{job_id}` (./job-socket.ts) and
 * `GET /api/v1/realtime/sse/generation/{job_id}` (./job-sse.ts). The URLs keep the seed's "generation" name.
 * Tokens come as `?token=` (browsers) or `Authorization: Bearer`.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { JobIdSchema } from '../../shared/messages.js';
import { ErrorResponseSchema } from '../http/errors.js';
import { notAnUpgrade, SSE_RESPONSES, SseQuery, sseGuards, TokenQuery } from '../streaming/route-schemas.js';
import type { JobsContext } from './context.js';
import { openJobSocket } from './job-socket.js';
import { streamJob } from './job-sse.js';

const JobParams = Type.Object({ job_id: JobIdSchema });
const JobSocketQuery = Type.Object({
  ...TokenQuery.properties,
  last_event_id: Type.Optional(Type.String({ description: 'resume after this event id (a `job_progress.event_id` received before)' })),
});

export function registerJobLiveRoutes(app: FastifyInstance, ctx: JobsContext): void {
  app.route<{ Params: Static<typeof JobParams> }>({
    method: 'GET',
    url: '/api/v1/realtime/generation/:job_id',
    schema: {
      tags: ['realtime'],
      summary: 'WebSocket: follow job progress (connected, job_progress, pong, error; ping, subscribe_job, unsubscribe_job)',
      params: JobParams,
      querystring: JobSocketQuery,
      response: { 400: ErrorResponseSchema },
    },
    // The upgrade itself is taken before the router (../streaming/upgrade.ts): a plain GET gets here.
    handler: notAnUpgrade,
  });
  ctx.upgrades.add(app, {
    url: '/api/v1/realtime/generation/:job_id',
    params: JobParams,
    open: (socket, upgrade) => openJobSocket(socket, upgrade, ctx),
  });

  app.get<{ Params: Static<typeof JobParams>; Querystring: Static<typeof SseQuery> }>(
    '/api/v1/realtime/sse/generation/:job_id',
    {
      exposeHeadRoute: false,
      onRequest: sseGuards(ctx),
      schema: {
        tags: ['realtime'],
        summary: 'SSE: follow job progress; Last-Event-ID resumes, `reset` when the gap is older than the history',
        params: JobParams,
        querystring: SseQuery,
        response: SSE_RESPONSES,
      },
    },
    (request, reply) => streamJob(request, reply, request.params.job_id, ctx),
  );
}
