/** What the job endpoints share: the streaming transport, the jobs service and the dashboard queries. */
import type { StreamingContext } from '../streaming/context.js';
import type { JobDashboard } from './job-dashboard.js';
import type { JobsService } from './jobs-service.js';

export interface JobsContext extends StreamingContext {
  jobs: JobsService;
  dashboard: JobDashboard;
}
