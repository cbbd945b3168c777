/**
 * `GET /api/v1/realtime/stats` (admin token): this instance's managers (job progress, notifications, collaboration:
 * connections, messages, errors), its documents, locks and SSE streams, plus cluster-wide active jobs.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TokenVerifier } from '../auth/jwt.js';
import type { Bus } from '../bus/types.js';
import { requireScope } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import type { JobsService } from '../jobs/jobs-service.js';
import type { Metrics } from '../metrics.js';
import type { SseHub } from '../streaming/sse-stream.js';

const ManagerStats = Type.Object({
  connections: Type.Integer(),
  messages_sent: Type.Union([Type.Integer(), Type.Null()], { description: 'null: not counted for this manager' }),
  errors: Type.Integer(),
});
const StatsResponse = Type.Object({
  uptime_seconds: Type.Number(),
  managers: Type.Object({ generation: ManagerStats, collaboration: ManagerStats, notifications: ManagerStats }),
  active_jobs: Type.Integer({ description: 'queued or processing, every instance' }),
  documents: Type.Integer({ description: 'collaboration documents loaded on this instance' }),
  locks: Type.Integer({ description: 'slide locks held on documents loaded on this instance' }),
  sse_streams: Type.Integer(),
  bus: Type.String(),
  timestamp: Type.String(),
});

export interface StatsDeps {
  verifier: TokenVerifier;
  /** Every per-instance number: the realtime managers' and the collaboration service's. */
  metrics: Metrics;
  jobs: JobsService;
  sse: SseHub;
  bus: Bus;
  /** When this app was built (ms since the epoch). */
  startedAt: number;
}

export function registerStatsRoute(app: FastifyInstance, deps: StatsDeps): void {
  const { metrics } = deps;
  app.get(
    '/api/v1/realtime/stats',
    {
      onRequest: requireScope(deps.verifier, 'admin'),
      schema: {
        tags: ['operations'],
        summary: 'Connections, messages and errors per manager on this instance (admin token)',
        response: { 200: StatsResponse, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 429: ErrorResponseSchema },
      },
    },
    async () => ({
      uptime_seconds: Math.round((Date.now() - deps.startedAt) / 1000),
      managers: {
        generation: metrics.managerStats('generation'),
        notifications: metrics.managerStats('notifications'),
        collaboration: metrics.collabStats(),
      },
      active_jobs: await deps.jobs.countActive(),
      documents: metrics.collabDocuments(),
      locks: metrics.collabLocks(),
      sse_streams: deps.sse.size,
      bus: deps.bus.kind,
      timestamp: new Date().toISOString(),
    }),
  );
}
