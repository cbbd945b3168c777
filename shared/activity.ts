/**
 * The activity log of a presentation: who did what, when. Shapes shared by the server and the SDK.
 * No server-only imports here.
 */
import { Type, type Static } from 'typebox';

/** Event types the server records; `details` of each is listed in docs/versions.md ("Activity"). */
export const ACTIVITY_TYPES = [
  'presentation.created',
  'member.added',
  'member.role_changed',
  'member.removed',
  'lock.acquired',
  'lock.released',
  'version.created',
  'version.restored',
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

export const ACTIVITY_PAGE_MAX = 200;

export interface ActivityActor {
  user_id: string;
  name: string;
}

export const ListActivityQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: ACTIVITY_PAGE_MAX, default: 50 })),
    before: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$', description: 'an event id: only older events' })),
  },
  { additionalProperties: false },
);
export type ListActivityQuery = Static<typeof ListActivityQuery>;

export const ActivityEventSchema = Type.Object({
  /** Increases with time; pass as `before` to page back. */
  id: Type.String(),
  type: Type.String(),
  /** Who did it; null when the server did (automatic versions). */
  actor: Type.Union([Type.Object({ user_id: Type.String(), name: Type.String() }), Type.Null()]),
  at: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
});
export type ActivityEvent = Static<typeof ActivityEventSchema> & { type: ActivityType | (string & {}) };

export const ActivityListSchema = Type.Object({
  events: Type.Array(ActivityEventSchema),
  /** Pass as `before` for the next (older) page; null on the last page. */
  next_before: Type.Union([Type.String(), Type.Null()]),
});
export type ActivityList = Static<typeof ActivityListSchema>;
