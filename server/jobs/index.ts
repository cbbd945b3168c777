/**
 * Job progress, one Fastify plugin: the REST routes (./routes.ts) and the live WebSocket and SSE routes
 * (./live-routes.ts). The jobs service is built by the composition root (server/app.ts) and passed in, so other
 * features (the demo generator, stats, shutdown) use the same one.
 */
import type { FastifyInstance } from 'fastify';
import type { StreamingContext } from '../streaming/context.js';
import type { JobsContext } from './context.js';
import type { Db } from '../store/db.js';
import { JobStore } from '../store/jobs.js';
import { JobsService } from './jobs-service.js';
import { registerJobLiveRoutes } from './live-routes.js';
import { registerJobRoutes } from './routes.js';

export { JobsService } from './jobs-service.js';
export type { JobsContext } from './context.js';

export interface JobsPluginOptions {
  streaming: StreamingContext;
  jobs: JobsService;
}

export function createJobsService(db: Db, streaming: StreamingContext): JobsService {
  return new JobsService(new JobStore(db), streaming.bus, streaming.metrics, streaming.log);
}

export async function jobsPlugin(app: FastifyInstance, options: JobsPluginOptions): Promise<void> {
  const ctx: JobsContext = { ...options.streaming, jobs: options.jobs };
  registerJobRoutes(app, ctx);
  registerJobLiveRoutes(app, ctx);
}
