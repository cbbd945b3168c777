/**
 * `GET /api/v1/realtime/stats` (admin token): this instance's managers (job progress, notifications, collaboration:
 * connections, messages, errors), its documents, locks and SSE streams, plus cluster-wide active jobs; and the seed's
 * fields: active_users, job_subscribers, channels (this instance), notification_history_size (stored, every
 * instance's) and total_edit_operations (applied on this instance since it started).
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
  active_users: Type.Integer({ description: 'distinct users with a collaboration, JSON WebSocket or SSE connection to this instance' }),
  job_subscribers: Type.Integer({ description: 'jobs followed by this instance’s WebSockets and SSE streams (one per job per connection)' }),
  channels: Type.Integer({ description: 'distinct channels (jobs, users, general, presence, custom) followed on this instance' }),
  notification_history_size: Type.Integer({ description: 'notifications stored (every instance’s), until read and past retention' }),
  total_edit_operations: Type.Integer({ description: 'document edits applied on this instance since it started (not those relayed from others)' }),
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
  /** The seed's counters (see the response schema). */
  seed: {
    activeUsers(): number;
    jobSubscribers(): number;
    channels(): number;
    notificationHistorySize(): Promise<number>;
    totalEditOperations(): number;
  };
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
      active_users: deps.seed.activeUsers(),
      job_subscribers: deps.seed.jobSubscribers(),
      channels: deps.seed.channels(),
      notification_history_size: await deps.seed.notificationHistorySize(),
      total_edit_operations: deps.seed.totalEditOperations(),
      bus: deps.bus.kind,
      timestamp: new Date().toISOString(),
    }),
  );
}
