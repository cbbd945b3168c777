/**
 * User status across instances: what a user chose (`online`, `away`, `busy`, with an optional message) shown while the
 * user has a live connection on any instance, `offline` otherwise. Changes are published on the channel
 * `status.{user_id}`. No server-only imports here: the client SDK imports this file.
 */

/** The statuses a user may choose (`PUT /status`). */
export const CHOSEN_STATUSES = ['online', 'away', 'busy'] as const;
export type ChosenStatus = (typeof CHOSEN_STATUSES)[number];
/** What others see: the chosen status while connected, `offline` when the user has no live connection anywhere. */
export type UserStatusValue = ChosenStatus | 'offline';

export const STATUS_MESSAGE_MAX_LENGTH = 200;

export interface UserStatus {
  user_id: string;
  status: UserStatusValue;
  /** The user's message (kept while offline), or null. */
  message: string | null;
  /** Now while online; when the last live connection ended while offline; null when never seen. */
  last_seen: string | null;
}

/** A change of a user's status, published on `status.{user_id}`. */
export interface UserStatusEvent extends UserStatus {
  type: 'user_status';
  timestamp: string;
}
