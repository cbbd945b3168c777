/**
 * The REST shapes dashboards use besides the seed's (listing jobs and presentations, cancelling a job, bulk read):
 * TypeBox schemas for validation and OpenAPI, static types for the SDK. Lists are pages, newest first: `next_cursor`
 * (null on the last page) is passed back as `cursor` for the next one. No server-only imports here.
 */
import { Type, type Static } from 'typebox';
import { JobResponse, JobStatusSchema, UserIdSchema } from './messages.js';

/** An opaque page cursor, as returned in `next_cursor`. */
export const CursorSchema = Type.String({ minLength: 1, maxLength: 512, description: 'the `next_cursor` of the previous page' });

export const JobListQuery = Type.Object({
  status: Type.Optional(JobStatusSchema),
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(CursorSchema),
  /** Another user's jobs: job services only (`jobs:write` or `admin`). */
  user_id: Type.Optional(UserIdSchema),
});
export type JobListQuery = Static<typeof JobListQuery>;

export const JobListResponse = Type.Object({
  jobs: Type.Array(JobResponse),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
export type JobListResponse = Static<typeof JobListResponse>;

export const CancelJobBody = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'stored as the job’s message' })) },
  { additionalProperties: false },
);
export type CancelJobBody = Static<typeof CancelJobBody>;

export const RoleSchema = Type.Union([Type.Literal('owner'), Type.Literal('editor'), Type.Literal('commenter'), Type.Literal('viewer')]);

export const PresentationListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(CursorSchema),
});
export type PresentationListQuery = Static<typeof PresentationListQuery>;

export const PresentationSummary = Type.Object({
  id: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
  /** The caller's role. */
  role: RoleSchema,
  created_at: Type.String(),
  /** The last change of the presentation: its title, its members, or its stored document. */
  updated_at: Type.String(),
});
export type PresentationSummary = Static<typeof PresentationSummary>;

export const PresentationListResponse = Type.Object({
  presentations: Type.Array(PresentationSummary),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
export type PresentationListResponse = Static<typeof PresentationListResponse>;

export const ReadAllResponse = Type.Object({ updated: Type.Integer({ minimum: 0, description: 'notifications marked read now' }) });
export type ReadAllResponse = Static<typeof ReadAllResponse>;

// ── Server → client messages for dashboards ──────────────────────────────────────────────────────────────────

type Role = Static<typeof RoleSchema>;

/**
 * A member was added, changed role or removed (`role` null): sent on the member's channel `user_{id}` and on the
 * presentation's presence channel `presence.{presentation_id}`.
 */
export interface MembershipMessage {
  type: 'membership';
  presentation_id: string;
  user_id: string;
  role: Role | null;
  previous_role: Role | null;
  /** The user who made the change. */
  changed_by: string;
  timestamp: string;
}

/** The presentation was deleted: sent on its presence channel and on every former member's channel. */
export interface PresentationDeletedMessage {
  type: 'presentation_deleted';
  presentation_id: string;
  deleted_by: string;
  timestamp: string;
}
