/** `GET /api/v1/realtime/stats` (design §6 "Operations"): this instance's managers, plus cluster-wide active jobs. */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { CollabService } from '../collab/index.js';
import { requireScope } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import type { TokenVerifier } from '../auth/jwt.js';
import type { Bus } from '../bus/types.js';
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

interface CollabRouteStats {
  slowReaders?: number;
  refusedFrames?: number;
}

export interface StatsDeps {
  verifier: TokenVerifier;
  metrics: Metrics;
  jobs: JobsService;
  sse: SseHub;
  bus: Bus;
  collab: CollabService;
}

export function registerStatsRoute(app: FastifyInstance, deps: StatsDeps): void {
  const { collab } = deps;
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
    async () => {
      const collabStats = (app as unknown as { collabRouteStats?: CollabRouteStats }).collabRouteStats;
      return {
        uptime_seconds: Math.round((Date.now() - app.deckhand.startedAt) / 1000),
        managers: {
          generation: deps.metrics.managerStats('generation'),
          notifications: deps.metrics.managerStats('notifications'),
          collaboration: {
            connections: collab.hocuspocus.getConnectionsCount(),
            messages_sent: null,
            errors: (collabStats?.slowReaders ?? 0) + (collabStats?.refusedFrames ?? 0),
          },
        },
        active_jobs: await deps.jobs.countActive(),
        documents: collab.hocuspocus.getDocumentsCount(),
        locks: collab.locks.count,
        sse_streams: deps.sse.size,
        bus: deps.bus.kind,
        timestamp: new Date().toISOString(),
      };
    },
  );
}
