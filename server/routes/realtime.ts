/**
 * The realtime endpoints (design §6): JSON WebSockets and SSE streams for job progress and notifications.
 * Tokens come as `?token=` (browsers) or `Authorization: Bearer`. Behaviour: server/realtime/*-socket.ts, *-sse.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { WebSocket } from 'ws';
import { JobIdSchema } from '../../shared/messages.js';
import { requireUser } from '../http/auth.js';
import { AppError, ErrorResponseSchema } from '../http/errors.js';
import { checkSseOrigin } from '../realtime/admission.js';
import type { RealtimeContext } from '../realtime/context.js';
import { openGenerationSocket } from '../realtime/generation-socket.js';
import { streamGeneration } from '../realtime/generation-sse.js';
import { openNotificationsSocket } from '../realtime/notifications-socket.js';
import { streamNotifications } from '../realtime/notifications-sse.js';

const JobParams = Type.Object({ job_id: JobIdSchema });
const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ description: 'JWT, for clients that cannot set headers' })) });
const SseQuery = Type.Object({
  token: Type.Optional(Type.String({ description: 'JWT (EventSource cannot set headers)' })),
  last_event_id: Type.Optional(Type.String({ description: 'resume point, for a new EventSource (else the Last-Event-ID header)' })),
});
const GenerationSocketQuery = Type.Object({
  ...TokenQuery.properties,
  last_event_id: Type.Optional(Type.String({ description: 'resume after this event id (a `job_progress.event_id` received before)' })),
});
const NotificationsSseQuery = Type.Object({
  ...SseQuery.properties,
  channels: Type.Optional(Type.String({ description: 'extra custom channels, comma-separated' })),
});
const sseResponses = {
  200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  429: ErrorResponseSchema,
};

async function notAnUpgrade(): Promise<never> {
  throw new AppError('INVALID_MESSAGE', 'this is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)');
}

export function registerRealtimeStreamRoutes(app: FastifyInstance, ctx: RealtimeContext): void {
  const sseGuards = [async (request: FastifyRequest) => checkSseOrigin(ctx, request), requireUser(ctx.verifier)];

  // `wsHandler` (rather than `websocket: true`, which hides the route from OpenAPI) takes the upgrade; `handler`
  // answers a plain GET.
  app.route<{ Params: Static<typeof JobParams> }>({
    method: 'GET',
    url: '/api/v1/realtime/generation/:job_id',
    schema: {
      tags: ['realtime'],
      summary: 'WebSocket: follow job progress (connected, job_progress, pong, error; ping, subscribe_job, unsubscribe_job)',
      params: JobParams,
      querystring: GenerationSocketQuery,
      response: { 400: ErrorResponseSchema },
    },
    wsHandler: (socket: WebSocket, request) => openGenerationSocket(socket, request, request.params.job_id, ctx),
    handler: notAnUpgrade,
  });

  app.route({
    method: 'GET',
    url: '/api/v1/realtime/notifications',
    schema: {
      tags: ['realtime'],
      summary: 'WebSocket: notifications (general and user_{id}; subscribe_channel, unsubscribe_channel, mark_read, ping)',
      querystring: TokenQuery,
      response: { 400: ErrorResponseSchema },
    },
    wsHandler: (socket: WebSocket, request) => openNotificationsSocket(socket, request, ctx),
    handler: notAnUpgrade,
  });

  app.get<{ Params: Static<typeof JobParams>; Querystring: Static<typeof SseQuery> }>(
    '/api/v1/realtime/sse/generation/:job_id',
    {
      exposeHeadRoute: false,
      onRequest: sseGuards,
      schema: {
        tags: ['realtime'],
        summary: 'SSE: follow job progress; Last-Event-ID resumes, `reset` when the gap is older than the history',
        params: JobParams,
        querystring: SseQuery,
        response: sseResponses,
      },
    },
    (request, reply) => streamGeneration(request, reply, request.params.job_id, ctx),
  );

  app.get<{ Querystring: Static<typeof NotificationsSseQuery> }>(
    '/api/v1/realtime/sse/notifications',
    {
      exposeHeadRoute: false,
      onRequest: sseGuards,
      schema: {
        tags: ['realtime'],
        summary: 'SSE: notifications (general, user_{id}, ?channels=); Last-Event-ID resumes every channel',
        querystring: NotificationsSseQuery,
        response: sseResponses,
      },
    },
    (request, reply) => streamNotifications(request, reply, ctx),
  );
}
