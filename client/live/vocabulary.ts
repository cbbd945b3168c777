/**
 * The job statuses and notification kinds of shared/messages.ts, as records keyed by its types: the compiler fails
 * when the shared vocabulary changes and these do not. (Importing the shared constants would pull the server's
 * TypeBox schemas into every browser bundle.)
 */
import type { JobStatus, NotificationPriority, NotificationType } from '../../shared/messages.js';

const TERMINAL: Record<JobStatus, boolean> = { queued: false, processing: false, completed: true, failed: true, cancelled: true };
const TYPES: Record<NotificationType, true> = { info: true, success: true, warning: true, error: true, alert: true };
const PRIORITIES: Record<NotificationPriority, true> = { low: true, normal: true, high: true, urgent: true };

const isKey = <K extends string>(record: Record<K, unknown>, value: unknown): value is K => typeof value === 'string' && Object.hasOwn(record, value);

export const isJobStatus = (value: unknown): value is JobStatus => isKey(TERMINAL, value);
export const isNotificationType = (value: unknown): value is NotificationType => isKey(TYPES, value);
export const isNotificationPriority = (value: unknown): value is NotificationPriority => isKey(PRIORITIES, value);

/** Completed, failed and cancelled are final. */
export const isTerminal = (status: JobStatus): boolean => TERMINAL[status];
