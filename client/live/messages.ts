/**
 * Validation of what the realtime endpoints send (shared/messages.ts): nothing from the wire reaches application
 * code without passing these checks. Unknown message types are ignored by the callers (forward compatibility).
 */
import type { JobProgressData, JobProgressMessage, JobResetMessage, NotificationData, NotificationMessage } from '../../shared/messages.js';
import { isJobStatus, isNotificationPriority, isNotificationType } from './vocabulary.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringOrNull = (value: unknown): value is string | null => value === null || typeof value === 'string';

/** A message of a JSON socket or SSE stream: an object with a string `type`. */
export function parseMessage(text: string): Json | null {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) && typeof value.type === 'string' ? value : null;
  } catch {
    return null;
  }
}

export function isJobProgressData(value: unknown): value is JobProgressData {
  return (
    isObject(value) &&
    isJobStatus(value.status) &&
    typeof value.progress === 'number' &&
    value.progress >= 0 &&
    value.progress <= 1 &&
    isStringOrNull(value.current_step) &&
    isStringOrNull(value.message) &&
    isStringOrNull(value.estimated_completion) &&
    (value.kind === undefined || typeof value.kind === 'string')
  );
}

/** A `job_progress` or `reset` message of the job `jobId`, or null. */
export function asJobEvent(message: Json, jobId: string): JobProgressMessage | JobResetMessage | null {
  if (message.type !== 'job_progress' && message.type !== 'reset') return null;
  if (message.job_id !== jobId || !isJobProgressData(message.data) || typeof message.timestamp !== 'string') return null;
  return message as unknown as JobProgressMessage | JobResetMessage;
}

export function isNotificationData(value: unknown): value is NotificationData {
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    isStringOrNull(value.user_id) &&
    typeof value.channel === 'string' &&
    isNotificationType(value.notification_type) &&
    typeof value.title === 'string' &&
    typeof value.message === 'string' &&
    isNotificationPriority(value.priority) &&
    isStringOrNull(value.category) &&
    isStringOrNull(value.action_url) &&
    isStringOrNull(value.action_text) &&
    typeof value.created_at === 'string' &&
    typeof value.read === 'boolean' &&
    isStringOrNull(value.read_at)
  );
}

/** A live `notification` message (flat, the seed's shape), or null. */
export function asNotificationMessage(message: Json): NotificationMessage | null {
  if (message.type !== 'notification') return null;
  const ok =
    typeof message.id === 'string' &&
    typeof message.channel === 'string' &&
    isNotificationType(message.notification_type) &&
    typeof message.title === 'string' &&
    typeof message.message === 'string' &&
    isObject(message.data) &&
    isNotificationPriority(message.priority) &&
    isStringOrNull(message.category) &&
    isStringOrNull(message.action_url) &&
    isStringOrNull(message.action_text) &&
    typeof message.read === 'boolean' &&
    typeof message.timestamp === 'string';
  return ok ? (message as unknown as NotificationMessage) : null;
}

/** When the connection's token expires, from `connected` / `authenticated` (ms since the epoch), or undefined. */
export function tokenExpiryOf(message: Json): number | undefined {
  if (message.type !== 'connected' && message.type !== 'authenticated') return undefined;
  const at = typeof message.token_expires_at === 'string' ? Date.parse(message.token_expires_at) : NaN;
  return Number.isFinite(at) ? at : undefined;
}
