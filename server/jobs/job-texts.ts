/**
 * A progress step's three JSON texts from one encoding of the job's fields, each value escaped once:
 * - `state`: the bus state value, what `encodeRecord({ job })` writes (./job-record.ts);
 * - `event`: the `job_progress` payload, what `JSON.stringify(progressMessage(job))` writes (./job-messages.ts);
 * - `reply`: the REST answer, what the route's JobResponse serializer writes for `jobResponse(job)`.
 * Built generically, a step serialized the same job three times (two JSON.stringify walks and Fastify's serializer,
 * which validates each nullable field and the status against its schema); here each is a concatenation of the same
 * escaped values. Only for a job whose fields have their plain types, with its fields in ./job-record.ts's order
 * (every job a step builds): anything else gets null and takes the generic path, so the bytes never differ.
 */
import { JOB_STATUSES, type JobStatus } from '../../shared/messages.js';
import type { Job } from '../store/jobs.js';

export interface StepTexts {
  state: string;
  event: string;
  reply: string;
}

const STATUSES: ReadonlySet<string> = new Set<JobStatus>(JOB_STATUSES);

/** A string or null as JSON; undefined for anything else. */
function nullable(value: unknown): string | undefined {
  if (value === null) return 'null';
  return typeof value === 'string' ? JSON.stringify(value) : undefined;
}

/** The three texts of `job`; null when a field is not of its plain type (then the generic encoders decide). */
export function encodeStep(job: Job): StepTexts | null {
  const { id, userId, kind, status, progress, version, createdAt, updatedAt } = job;
  if (typeof id !== 'string' || typeof userId !== 'string' || typeof kind !== 'string') return null;
  if (typeof createdAt !== 'string' || typeof updatedAt !== 'string' || !STATUSES.has(status)) return null;
  if (!Number.isFinite(progress) || !Number.isFinite(version)) return null;
  const title = nullable(job.title);
  const step = nullable(job.currentStep);
  const message = nullable(job.message);
  const eta = nullable(job.estimatedCompletion);
  const completed = nullable(job.completedAt);
  // JSON.stringify of a value it cannot write (undefined, a function) is undefined: the generic path omits the key.
  const result: string | undefined = job.result === undefined ? undefined : JSON.stringify(job.result);
  const error: string | undefined = job.error === undefined ? undefined : JSON.stringify(job.error);
  if (title === undefined || step === undefined || message === undefined || eta === undefined || completed === undefined) return null;
  if (typeof result !== 'string' || typeof error !== 'string') return null;

  const idText = JSON.stringify(id);
  const userText = JSON.stringify(userId);
  const kindText = JSON.stringify(kind);
  const statusText = `"${status}"`;
  const progressText = `${progress}`;
  const created = JSON.stringify(createdAt);
  const updated = JSON.stringify(updatedAt);
  const state =
    `{"job":{"id":${idText},"userId":${userText},"kind":${kindText},"title":${title},"status":${statusText},` +
    `"progress":${progressText},"currentStep":${step},"message":${message},"estimatedCompletion":${eta},` +
    `"result":${result},"error":${error},"version":${version},"createdAt":${created},"updatedAt":${updated},` +
    `"completedAt":${completed}}}`;
  // The fields a `job_progress` and the REST answer share, in the order both write them.
  const shared = `"status":${statusText},"progress":${progressText},"current_step":${step},"message":${message},"estimated_completion":${eta}`;
  const outcome = status === 'completed' ? `,"result":${result}` : status === 'failed' ? `,"error":${error}` : '';
  const event = `{"type":"job_progress","job_id":${idText},"data":{${shared},"kind":${kindText}${outcome}},"timestamp":${updated}}`;
  const reply =
    `{"job_id":${idText},"user_id":${userText},"kind":${kindText},"title":${title},${shared},"result":${result},` +
    `"error":${error},"created_at":${created},"updated_at":${updated},"completed_at":${completed}}`;
  return { state, event, reply };
}
