/** The JSON shapes of a job: its REST representation and its `job_progress` / `reset` messages (seed wire shape). */
import type { JobProgressData, JobProgressMessage, JobResponse, JobResetMessage } from '../../shared/messages.js';
import type { Job } from '../store/jobs.js';

/** The state a `job_progress` carries: `result` once completed, `error` once failed (a dashboard sees why). */
export function progressData(job: Job): JobProgressData {
  const data: JobProgressData = {
    status: job.status,
    progress: job.progress,
    current_step: job.currentStep,
    message: job.message,
    estimated_completion: job.estimatedCompletion,
    kind: job.kind,
  };
  if (job.status === 'completed') data.result = job.result;
  if (job.status === 'failed') data.error = job.error;
  return data;
}

export function progressMessage(job: Job): JobProgressMessage {
  return { type: 'job_progress', job_id: job.id, data: progressData(job), timestamp: job.updatedAt };
}

export function resetMessage(job: Job): JobResetMessage {
  return { type: 'reset', job_id: job.id, data: progressData(job), timestamp: new Date().toISOString() };
}

export function jobResponse(job: Job): JobResponse {
  return {
    job_id: job.id,
    user_id: job.userId,
    kind: job.kind,
    title: job.title,
    status: job.status,
    progress: job.progress,
    current_step: job.currentStep,
    message: job.message,
    estimated_completion: job.estimatedCompletion,
    result: job.result,
    error: job.error,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    completed_at: job.completedAt,
  };
}
