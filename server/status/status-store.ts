/** What each user chose as status (and when they were last seen), in Postgres (migration 005, `user_status`). */
import type { ChosenStatus } from '../../shared/status.js';
import type { Db } from '../store/db.js';

export interface StoredStatus {
  status: ChosenStatus;
  message: string | null;
  /** ms since the epoch, or null when never seen. */
  lastSeenAt: number | null;
}

interface StatusRow {
  status: ChosenStatus;
  message: string | null;
  last_seen_at: Date | string | null;
}

const ms = (v: Date | string) => (v instanceof Date ? v.getTime() : Date.parse(v));

export class StatusStore {
  constructor(private readonly db: Db) {}

  /** The user's choice; a user who never chose is `online` without a message. */
  async get(userId: string): Promise<StoredStatus> {
    const { rows } = await this.db.query<StatusRow>('SELECT status, message, last_seen_at FROM user_status WHERE user_id = $1', [userId]);
    const row = rows[0];
    return row
      ? { status: row.status, message: row.message, lastSeenAt: row.last_seen_at === null ? null : ms(row.last_seen_at) }
      : { status: 'online', message: null, lastSeenAt: null };
  }

  async set(userId: string, status: ChosenStatus, message: string | null): Promise<void> {
    await this.db.query(
      `INSERT INTO user_status (user_id, status, message) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET status = EXCLUDED.status, message = EXCLUDED.message, updated_at = clock_timestamp()`,
      [userId, status, message],
    );
  }

  /** Records that the user was seen at `at` (ms since the epoch); an earlier time never replaces a later one. */
  async seen(userId: string, at: number): Promise<void> {
    await this.db.query(
      `INSERT INTO user_status (user_id, last_seen_at) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET last_seen_at = GREATEST(user_status.last_seen_at, EXCLUDED.last_seen_at)`,
      [userId, new Date(at)],
    );
  }
}
