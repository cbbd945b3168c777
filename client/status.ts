/**
 * User status (`client.status`): set one's own (online, away, busy, with a message), read anyone's one may see, and
 * follow it live (channel `status.{user_id}` on the client's channel stream). A follower gets the current status
 * first, then every change; after a reconnection or a server `reset` it is read again, so a change missed meanwhile
 * is not missed for good. Statuses equal to the last one delivered (same status and message) are not repeated.
 */
import { channelName } from '../shared/channels.js';
import type { ChosenStatus, UserStatus } from '../shared/status.js';
import type { ClientContext } from './context.js';
import { DeckhandError } from './errors.js';
import type { ChannelStream } from './live/channel-stream.js';
import { requestJson } from './rest.js';

const STATUS_VALUES: Record<UserStatus['status'], true> = { online: true, away: true, busy: true, offline: true };

function isUserStatus(value: unknown): value is UserStatus {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.user_id === 'string' &&
    typeof v.status === 'string' &&
    Object.hasOwn(STATUS_VALUES, v.status) &&
    (v.message === null || typeof v.message === 'string') &&
    (v.last_seen === null || typeof v.last_seen === 'string')
  );
}

const statusOf = ({ user_id, status, message, last_seen }: UserStatus): UserStatus => ({ user_id, status, message, last_seen });

export class Statuses {
  constructor(
    private readonly ctx: ClientContext,
    private readonly stream: ChannelStream,
  ) {}

  /** Sets the signed-in user's status; shown to others while the user has a live connection, `offline` otherwise. */
  async set(status: ChosenStatus, message: string | null = null): Promise<UserStatus> {
    return this.expect(await requestJson(this.ctx, 'PUT', '/api/v1/status', { status, message }));
  }

  async get(userId: string): Promise<UserStatus> {
    return this.expect(await requestJson(this.ctx, 'GET', `/api/v1/status/${encodeURIComponent(userId)}`));
  }

  /** Calls `onStatus` with the user's status now and on every change; returns the function that stops. */
  follow(userId: string, onStatus: (status: UserStatus) => void, onError?: (error: DeckhandError) => void): () => void {
    let last: UserStatus | undefined;
    let events = 0;
    let active = true;
    const deliver = (next: UserStatus) => {
      if (!active || (last && last.status === next.status && last.message === next.message)) return;
      last = next;
      onStatus(next);
    };
    const reload = () => {
      const eventsBefore = events;
      this.get(userId).then(
        // An event that came while the answer was on its way is newer than the answer.
        (status) => events === eventsBefore && deliver(status),
        (err: unknown) => active && onError?.(err instanceof DeckhandError ? err : new DeckhandError('INTERNAL_ERROR', String(err))),
      );
    };
    const channel = channelName({ kind: 'status', userId });
    const stop = this.stream.follow(channel, {
      opened: reload,
      message: (message) => {
        if (message.type === 'reset' && Array.isArray(message.channels) && message.channels.includes(channel)) reload();
        if (message.type !== 'user_status' || message.user_id !== userId || !isUserStatus(message)) return;
        events++;
        deliver(statusOf(message));
      },
      error: (error) => onError?.(error),
    });
    return () => {
      active = false;
      stop();
    };
  }

  private expect(body: unknown): UserStatus {
    if (!isUserStatus(body)) throw new DeckhandError('INTERNAL_ERROR', 'unexpected status from the server');
    return statusOf(body);
  }
}
