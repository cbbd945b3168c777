/**
 * Presence: who is connected to a presentation, with status and current slide, readable without Yjs.
 *
 * Editors publish it in their awareness state, next to the `user` the server stamps:
 *   awareness.setLocalStateField('presence', { slide_id: 's3', status: 'active' })
 * Dashboards read `GET /api/v1/presentations/{id}/presence`, or follow `presence.{id}` on the notifications socket
 * (`subscribe_channel`), which carries `user_joined`, `user_left` and `presence_update` messages (and `membership` /
 * `presentation_deleted`, shared/dashboard-api.ts).
 */
export const PRESENCE_STATUSES = ['active', 'idle', 'away'] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

/** What an editor puts in its awareness state under `presence`. */
export interface AwarenessPresence {
  slide_id?: string | null;
  status?: PresenceStatus;
}

export interface PresenceUser {
  user_id: string;
  name: string;
  color: string;
  status: PresenceStatus;
  /** The slide the user is on (from its most recently active connection), or null. */
  slide_id: string | null;
  /** Open editor connections (tabs, devices) of the user on this presentation. */
  connections: number;
  last_active_at: string;
}

export interface PresenceSnapshot {
  presentation_id: string;
  users: PresenceUser[];
  timestamp: string;
}

export interface PresenceEvent {
  type: 'user_joined' | 'user_left' | 'presence_update';
  presentation_id: string;
  user: { user_id: string; name: string; color: string };
  status: PresenceStatus | null;
  slide_id: string | null;
  timestamp: string;
}

export function normalizeStatus(value: unknown): PresenceStatus {
  return (PRESENCE_STATUSES as readonly unknown[]).includes(value) ? (value as PresenceStatus) : 'active';
}
