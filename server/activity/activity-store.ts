/** Activity rows: insert, page newest first, prune by age. */
import type { ActivityActor, ActivityEvent } from '../../shared/activity.js';
import type { Db } from '../store/db.js';

interface ActivityRow {
  id: string | number;
  type: string;
  actor_id: string | null;
  actor_name: string | null;
  at: Date | string;
  details: unknown;
}

const iso = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString();

function toEvent(row: ActivityRow): ActivityEvent {
  const details = typeof row.details === 'string' ? JSON.parse(row.details) : row.details;
  return {
    id: String(row.id),
    type: row.type,
    actor: row.actor_id === null ? null : { user_id: row.actor_id, name: row.actor_name ?? row.actor_id },
    at: iso(row.at),
    details: typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {},
  };
}

export class ActivityStore {
  constructor(private readonly db: Db) {}

  async insert(presentationId: string, type: string, actor: ActivityActor | null, details: Record<string, unknown>): Promise<void> {
    await this.db.query(
      'INSERT INTO presentation_activity (presentation_id, type, actor_id, actor_name, details) VALUES ($1, $2, $3, $4, $5::jsonb)',
      [presentationId, type, actor?.user_id ?? null, actor?.name ?? null, JSON.stringify(details)],
    );
  }

  /** Newest first; `before` (an event id) pages back. Reads one row more than `limit` to tell if more exist. */
  async list(presentationId: string, limit: number, before?: string): Promise<{ events: ActivityEvent[]; more: boolean }> {
    const params: unknown[] = [presentationId, limit + 1];
    let where = 'presentation_id = $1';
    if (before !== undefined) {
      params.push(before);
      where += ' AND id < $3::bigint';
    }
    const { rows } = await this.db.query<ActivityRow>(
      `SELECT id, type, actor_id, actor_name, at, details FROM presentation_activity WHERE ${where} ORDER BY id DESC LIMIT $2`,
      params,
    );
    return { events: rows.slice(0, limit).map(toEvent), more: rows.length > limit };
  }

  /** Deletes events older than `days`; returns how many. */
  async pruneOlderThan(days: number): Promise<number> {
    const { rows } = await this.db.query<{ n: string | number }>(
      `WITH pruned AS (DELETE FROM presentation_activity WHERE at < now() - make_interval(days => $1::int) RETURNING 1)
       SELECT count(*) AS n FROM pruned`,
      [days],
    );
    return Number(rows[0]?.n ?? 0);
  }
}
