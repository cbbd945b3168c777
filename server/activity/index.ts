/**
 * Activity, one Fastify plugin (GET …/activity). The log itself is built by the composition root (server/app.ts)
 * and handed to the features that record events (versions, members, locks).
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Db } from '../store/db.js';
import { ActivityLog } from './activity-log.js';
import { ActivityStore } from './activity-store.js';
import { registerActivityRoutes, type ActivityRoutesDeps } from './routes.js';

export { ActivityLog, type ActivityRecorder, type Actor } from './activity-log.js';

export function createActivityLog(db: Db, log: FastifyBaseLogger, retentionDays: number): ActivityLog {
  return new ActivityLog(new ActivityStore(db), log, retentionDays);
}

export async function activityPlugin(app: FastifyInstance, options: ActivityRoutesDeps): Promise<void> {
  registerActivityRoutes(app, options);
}
