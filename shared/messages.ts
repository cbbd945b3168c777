/**
 * The JSON protocol of job progress and notifications (the SlideGenie seed's wire shape): REST bodies, WebSocket
 * messages both ways and SSE events. TypeBox schemas drive server validation and OpenAPI; the static types are what the
 * client SDK uses. Every server → client message carries `timestamp` (ISO 8601). Errors are shared/errors.ts
 * `ErrorMessage`. No server-only imports here.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { CUSTOM_CHANNEL_PATTERN, JOB_ID_PATTERN } from './channels.js';
import type { ErrorMessage } from './errors.js';

// ── Vocabulary ───────────────────────────────────────────────────────────────────────────────────────────────

export const JOB_STATUSES = ['queued', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** Terminal states are final: later progress gets 409 CONFLICT. */
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
export const isTerminalStatus = (status: JobStatus): boolean => TERMINAL_JOB_STATUSES.includes(status);

export const NOTIFICATION_TYPES = ['info', 'success', 'warning', 'error', 'alert'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];
export const NOTIFICATION_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type NotificationPriority = (typeof NOTIFICATION_PRIORITIES)[number];

export const USER_ID_MAX_LENGTH = 256;
export const NOTIFICATION_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const JobStatusSchema = Type.Union([
  Type.Literal('queued'),
  Type.Literal('processing'),
  Type.Literal('completed'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
]);
export const NotificationTypeSchema = Type.Union([
  Type.Literal('info'),
  Type.Literal('success'),
  Type.Literal('warning'),
  Type.Literal('error'),
  Type.Literal('alert'),
]);
export const NotificationPrioritySchema = Type.Union([Type.Literal('low'), Type.Literal('normal'), Type.Literal('high'), Type.Literal('urgent')]);
export const JobIdSchema = Type.String({ pattern: JOB_ID_PATTERN, description: 'letters, digits and _.:- (max 128)' });
export const UserIdSchema = Type.String({ minLength: 1, maxLength: USER_ID_MAX_LENGTH });
export const NotificationIdSchema = Type.String({ pattern: NOTIFICATION_ID_PATTERN });

// ── REST: jobs ───────────────────────────────────────────────────────────────────────────────────────────────

export const CreateJobBody = Type.Object(
  {
    job_id: Type.Optional(JobIdSchema),
    user_id: UserIdSchema,
    kind: Type.String({ minLength: 1, maxLength: 100 }),
    title: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type CreateJobBody = Static<typeof CreateJobBody>;

export const JobProgressBody = Type.Object(
  {
    status: JobStatusSchema,
    /** 0..1; omitted keeps the previous value (`completed` sets 1). */
    progress: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    current_step: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
    message: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
    estimated_completion: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
    result: Type.Optional(Type.Unknown()),
    error: Type.Optional(Nullable(Type.Union([Type.String({ maxLength: 10_000 }), Type.Record(Type.String(), Type.Unknown())]))),
  },
  { additionalProperties: false },
);
export type JobProgressBody = Static<typeof JobProgressBody>;

export const JobResponse = Type.Object({
  job_id: Type.String(),
  user_id: Type.String(),
  kind: Type.String(),
  title: Nullable(Type.String()),
  status: JobStatusSchema,
  progress: Type.Number(),
  current_step: Nullable(Type.String()),
  message: Nullable(Type.String()),
  estimated_completion: Nullable(Type.String()),
  result: Type.Unknown(),
  error: Type.Unknown(),
  created_at: Type.String(),
  updated_at: Type.String(),
  completed_at: Nullable(Type.String()),
});
export type JobResponse = Static<typeof JobResponse>;

// ── REST: notifications ──────────────────────────────────────────────────────────────────────────────────────

export const CreateNotificationBody = Type.Object(
  {
    /** Exactly one of user_id, user_ids, channel. */
    user_id: Type.Optional(UserIdSchema),
    user_ids: Type.Optional(Type.Array(UserIdSchema, { minItems: 1, maxItems: 1000, uniqueItems: true })),
    /** `general` or a custom channel name (CUSTOM_CHANNEL_PATTERN). */
    channel: Type.Optional(Type.String({ pattern: CUSTOM_CHANNEL_PATTERN })),
    notification_type: Type.Optional(NotificationTypeSchema),
    title: Type.String({ minLength: 1, maxLength: 500 }),
    message: Type.String({ maxLength: 10_000 }),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    priority: Type.Optional(NotificationPrioritySchema),
    category: Type.Optional(Type.String({ maxLength: 100 })),
    action_url: Type.Optional(Type.String({ maxLength: 2000 })),
    action_text: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type CreateNotificationBody = Static<typeof CreateNotificationBody>;

export const NotificationSchema = Type.Object({
  id: Type.String(),
  /** The recipient, or null for a channel broadcast. */
  user_id: Nullable(Type.String()),
  /** Client channel name: `user_{id}` for a user's notification, else `general` or the custom channel. */
  channel: Type.String(),
  notification_type: NotificationTypeSchema,
  title: Type.String(),
  message: Type.String(),
  data: Type.Unknown(),
  priority: NotificationPrioritySchema,
  category: Nullable(Type.String()),
  action_url: Nullable(Type.String()),
  action_text: Nullable(Type.String()),
  created_at: Type.String(),
  read: Type.Boolean(),
  read_at: Nullable(Type.String()),
});
export type NotificationData = Static<typeof NotificationSchema>;

// ── Server → client messages (WebSocket frames and SSE event data) ────────────────────────────────────────────

export interface JobProgressData {
  status: JobStatus;
  progress: number;
  current_step: string | null;
  message: string | null;
  estimated_completion: string | null;
  /** The job's kind, as created (`export`, `generate`, …). */
  kind: string;
  /** Only when `completed`: the result the worker reported (null when it reported none). */
  result?: unknown;
  /** Only when `failed`: the error the worker reported (null when it reported none). */
  error?: unknown;
}

export interface JobProgressMessage {
  type: 'job_progress';
  /** Over WebSocket: the bus event id, to resume from (`?last_event_id=`, `subscribe_job`). Over SSE it is the `id`. */
  event_id?: string;
  job_id: string;
  data: JobProgressData;
  timestamp: string;
}

/**
 * A notification on the WebSocket and in SSE data: flat, in the seed's shape (`msg.title`, `msg.message`, …).
 * `data` is the sender's payload (`{}` when it sent none); `timestamp` is when the notification was created, so a
 * notification delivered again (unread on reconnect) carries the same one. The REST shape is NotificationData.
 */
export interface NotificationMessage {
  type: 'notification';
  id: string;
  /** `user_{id}` for the user's own notifications, else `general` or the custom channel. */
  channel: string;
  notification_type: NotificationType;
  title: string;
  message: string;
  data: Record<string, unknown>;
  priority: NotificationPriority;
  category: string | null;
  action_url: string | null;
  action_text: string | null;
  read: boolean;
  timestamp: string;
}

/** A notification was marked read (by any of the user's connections or REST): sent on the user's channel. */
export interface NotificationReadMessage {
  type: 'notification_read';
  id: string;
  timestamp: string;
}

/** Every unread notification of the user was marked read (`read-all`, `mark_all_read`): sent on the user's channel. */
export interface NotificationsReadAllMessage {
  type: 'notifications_read_all';
  /** How many were marked read by this request. */
  updated: number;
  timestamp: string;
}

/** A notification was deleted (by any of the user's connections): sent on the user's channel. */
export interface NotificationDeletedMessage {
  type: 'notification_deleted';
  id: string;
  timestamp: string;
}

export interface ConnectedMessage {
  type: 'connected';
  user_id: string;
  /** Generation sockets: the job in the URL. */
  job_id?: string;
  /** Notification sockets: the channels subscribed automatically. */
  channels?: string[];
  /** When the token expires (ISO 8601): send `{type:"auth", token}` before then to stay connected. */
  token_expires_at: string;
  timestamp: string;
}

/** Acknowledges subscribe_channel (channel) or unsubscribe_job / unsubscribe_channel. */
export interface SubscribedMessage {
  type: 'subscribed' | 'unsubscribed';
  channel?: string;
  job_id?: string;
  timestamp: string;
}

export interface PongMessage {
  type: 'pong';
  timestamp: string;
}

/** SSE only: the resume point is older than the history; what follows starts from the current state. */
export interface JobResetMessage {
  type: 'reset';
  /** As for `job_progress`: the event id the reset stands at. */
  event_id?: string;
  job_id: string;
  data: JobProgressData;
  timestamp: string;
}

export interface NotificationResetMessage {
  type: 'reset';
  channels: string[];
  /** Unread notifications of the user (the most recent are re-sent after this event). */
  unread_count: number;
  timestamp: string;
}

export type GenerationServerMessage = ConnectedMessage | JobProgressMessage | SubscribedMessage | PongMessage | ErrorMessage;
export type NotificationsServerMessage =
  | ConnectedMessage
  | NotificationMessage
  | NotificationReadMessage
  | NotificationsReadAllMessage
  | NotificationDeletedMessage
  | SubscribedMessage
  | PongMessage
  | ErrorMessage;

// ── Client → server messages ─────────────────────────────────────────────────────────────────────────────────
// Unknown extra properties are ignored (forward compatibility); a wrong type or a missing field is INVALID_MESSAGE.

export const PingMessage = Type.Object({ type: Type.Literal('ping') });
/** Replaces the connection's token before it expires; the new token must be for the same user. */
export const AuthMessage = Type.Object({ type: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 8192 }) });
export const SubscribeJobMessage = Type.Object({
  type: Type.Literal('subscribe_job'),
  job_id: JobIdSchema,
  /** Resume after this event id (a `job_progress.event_id` received before): the missed states, or a `reset`. */
  last_event_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});
export const UnsubscribeJobMessage = Type.Object({ type: Type.Literal('unsubscribe_job'), job_id: JobIdSchema });
export const SubscribeChannelMessage = Type.Object({
  type: Type.Literal('subscribe_channel'),
  channel: Type.String({ minLength: 1, maxLength: 300 }),
});
export const UnsubscribeChannelMessage = Type.Object({
  type: Type.Literal('unsubscribe_channel'),
  channel: Type.String({ minLength: 1, maxLength: 300 }),
});
export const MarkReadMessage = Type.Object({ type: Type.Literal('mark_read'), id: NotificationIdSchema });
/** Marks every unread notification of the user read (as POST /notifications/read-all). */
export const MarkAllReadMessage = Type.Object({ type: Type.Literal('mark_all_read') });

export const JobClientMessage = Type.Union([PingMessage, AuthMessage, SubscribeJobMessage, UnsubscribeJobMessage]);
export type JobClientMessage = Static<typeof JobClientMessage>;
export const NotificationsClientMessage = Type.Union([
  PingMessage,
  AuthMessage,
  SubscribeChannelMessage,
  UnsubscribeChannelMessage,
  MarkReadMessage,
  MarkAllReadMessage,
]);
export type NotificationsClientMessage = Static<typeof NotificationsClientMessage>;

export const GENERATION_CLIENT_TYPES = ['ping', 'auth', 'subscribe_job', 'unsubscribe_job'] as const;
export const NOTIFICATIONS_CLIENT_TYPES = ['ping', 'auth', 'subscribe_channel', 'unsubscribe_channel', 'mark_read', 'mark_all_read'] as const;

export const now = (): string => new Date().toISOString();
