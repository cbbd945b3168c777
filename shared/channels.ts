/**
 * Channel names. Two vocabularies, one mapping:
 *
 * - Bus channels (server side, between instances): `jobs.{id}`, `user.{id}`, `general`, `presence.{id}`,
 *   `chat.{id}`, `status.{user_id}`, `custom.{name}`. Dots separate a namespace from an id; a bus channel is never
 *   chosen by a client directly.
 * - Client channel names (what a client sends in `subscribe_channel` and sees in a `notification`): `general`,
 *   `user_{id}` (a user's own channel), `presence.{presentation_id}`, `chat.{presentation_id}`, `status.{user_id}`,
 *   `jobs.{job_id}`, or a custom topic name matching CUSTOM_CHANNEL_PATTERN (no dots, so it can never collide with a
 *   namespaced channel).
 *
 * Who may subscribe to what is decided by the server's channel policy (server/notifications/channel-policy.ts).
 * No server-only imports here: the client SDK imports this file.
 */

export const GENERAL_CHANNEL = 'general';
/** Custom topic channels: letters, digits, `_` and `-`, 1–64 characters, starting with a letter or digit. */
export const CUSTOM_CHANNEL_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';
/** Job ids: what `POST /jobs` accepts as `job_id` (and what it generates: a UUID). */
export const JOB_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';
/** Presentation ids inside presence channels (same alphabet as job ids). */
const PRESENTATION_ID_IN_CHANNEL = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const USER_ID_MAX_LENGTH = 256;
const customPattern = new RegExp(CUSTOM_CHANNEL_PATTERN);
const jobIdPattern = new RegExp(JOB_ID_PATTERN);

export type ChannelRef =
  | { kind: 'general' }
  | { kind: 'user'; userId: string }
  | { kind: 'job'; jobId: string }
  | { kind: 'presence'; presentationId: string }
  | { kind: 'chat'; presentationId: string }
  | { kind: 'status'; userId: string }
  | { kind: 'custom'; name: string };

export const jobChannel = (jobId: string): string => `jobs.${jobId}`;
export const userChannel = (userId: string): string => `user.${userId}`;
export const presenceChannel = (presentationId: string): string => `presence.${presentationId}`;
export const chatChannel = (presentationId: string): string => `chat.${presentationId}`;
export const statusChannel = (userId: string): string => `status.${userId}`;
export const customChannel = (name: string): string => `custom.${name}`;

export function isJobId(value: unknown): value is string {
  return typeof value === 'string' && jobIdPattern.test(value);
}

export function isCustomChannelName(value: unknown): value is string {
  return typeof value === 'string' && customPattern.test(value) && value !== GENERAL_CHANNEL && !value.startsWith('user_');
}

/** Parses a client channel name; null when it is not a valid name. */
export function parseChannelName(name: unknown): ChannelRef | null {
  if (typeof name !== 'string' || name.length === 0 || name.length > 300) return null;
  if (name === GENERAL_CHANNEL) return { kind: 'general' };
  if (name.startsWith('user_')) {
    const userId = name.slice('user_'.length);
    return userId.length > 0 && userId.length <= USER_ID_MAX_LENGTH ? { kind: 'user', userId } : null;
  }
  if (name.startsWith('jobs.')) {
    const jobId = name.slice('jobs.'.length);
    return isJobId(jobId) ? { kind: 'job', jobId } : null;
  }
  if (name.startsWith('presence.')) {
    const presentationId = name.slice('presence.'.length);
    return PRESENTATION_ID_IN_CHANNEL.test(presentationId) ? { kind: 'presence', presentationId } : null;
  }
  if (name.startsWith('chat.')) {
    const presentationId = name.slice('chat.'.length);
    return PRESENTATION_ID_IN_CHANNEL.test(presentationId) ? { kind: 'chat', presentationId } : null;
  }
  if (name.startsWith('status.')) {
    const userId = name.slice('status.'.length);
    return userId.length > 0 && userId.length <= USER_ID_MAX_LENGTH ? { kind: 'status', userId } : null;
  }
  return isCustomChannelName(name) ? { kind: 'custom', name } : null;
}

/** The client name of a channel: `general`, `user_{id}`, `jobs.{id}`, `presence.{id}`, `chat.{id}`, `status.{id}` or the custom name. */
export function channelName(ref: ChannelRef): string {
  switch (ref.kind) {
    case 'general':
      return GENERAL_CHANNEL;
    case 'user':
      return `user_${ref.userId}`;
    case 'job':
      return `jobs.${ref.jobId}`;
    case 'presence':
      return `presence.${ref.presentationId}`;
    case 'chat':
      return `chat.${ref.presentationId}`;
    case 'status':
      return `status.${ref.userId}`;
    case 'custom':
      return ref.name;
  }
}

/** The bus channel that carries a client channel. */
export function busChannel(ref: ChannelRef): string {
  switch (ref.kind) {
    case 'general':
      return GENERAL_CHANNEL;
    case 'user':
      return userChannel(ref.userId);
    case 'job':
      return jobChannel(ref.jobId);
    case 'presence':
      return presenceChannel(ref.presentationId);
    case 'chat':
      return chatChannel(ref.presentationId);
    case 'status':
      return statusChannel(ref.userId);
    case 'custom':
      return customChannel(ref.name);
  }
}
