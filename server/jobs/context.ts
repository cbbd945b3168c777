/** What the job endpoints share: the streaming transport and the jobs service. */
import type { StreamingContext } from '../streaming/context.js';
import type { JobsService } from './jobs-service.js';

export interface JobsContext extends StreamingContext {
  jobs: JobsService;
}
