/**
 * Job progress, one Fastify plugin: the REST routes (./routes.ts) and the live WebSocket and SSE routes
 * (./live-routes.ts). The jobs service is built by the composition root (server/app.ts) and passed in, so other
 * features (the demo generator, stats, shutdown) use the same one.
 */
import type { FastifyInstance } from 'fastify';
import type { StreamingContext } from '../streaming/context.js';
import type { JobsContext } from './context.js';
import type { Db } from '../store/db.js';
import { JobQueries } from '../store/job-queries.js';
import { JobStore } from '../store/jobs.js';
import { JobDashboard } from './job-dashboard.js';
import { JobsService } from './jobs-service.js';
import { registerJobLiveRoutes } from './live-routes.js';
import { registerJobRoutes } from './routes.js';

export { JobsService } from './jobs-service.js';
export { JobDashboard } from './job-dashboard.js';
export type { JobsContext } from './context.js';

export interface JobsPluginOptions {
  streaming: StreamingContext;
  jobs: JobsService;
  /** For the dashboard's read queries (GET /jobs). */
  db: Db;
}

export function createJobsService(db: Db, streaming: StreamingContext): JobsService {
  return new JobsService(new JobStore(db), streaming.bus, streaming.metrics, streaming.log, {
    writeIntervalMs: streaming.config.jobWriteIntervalMs,
  });
}

export async function jobsPlugin(app: FastifyInstance, options: JobsPluginOptions): Promise<void> {
  const ctx: JobsContext = { ...options.streaming, jobs: options.jobs, dashboard: new JobDashboard(options.jobs, new JobQueries(options.db)) };
  registerJobRoutes(app, ctx);
  registerJobLiveRoutes(app, ctx);
}
