/**
 * Who owns each Yjs client id of a document (migration 007): claimed by the first user who writes under it or
 * introduces it in awareness, for good. A user claims at most `max` new ids in a document per `windowMs` (migration
 * 008): the count and the insert run under a transaction-level advisory lock on (document, user), so claims racing
 * on several instances never pass the cap together.
 */
import type { Db } from './db.js';

export interface ClaimLimit {
  /** New client ids one user may claim in one document per window. */
  max: number;
  windowMs: number;
}

export interface ClaimResult {
  /** The owner of each id that has one now: the claimer (just claimed) or an earlier owner. */
  owners: Map<number, string>;
  /** Set when the user has reached its cap: ms until its oldest claim in the window leaves it (and one frees up). */
  cappedForMs: number | null;
}

type OwnerRow = { client_id: string | number; user_id: string };

const ownersOf = (rows: OwnerRow[]) => new Map(rows.map((r) => [Number(r.client_id), r.user_id]));

export class DocumentClientStore {
  constructor(private readonly db: Db) {}

  /** The owners of the ids that have one. */
  async owners(name: string, clientIds: readonly number[]): Promise<Map<number, string>> {
    if (clientIds.length === 0) return new Map();
    const { rows } = await this.db.query<OwnerRow>(
      'SELECT client_id, user_id FROM document_clients WHERE name = $1 AND client_id = ANY($2::bigint[])',
      [name, clientIds.map(String)],
    );
    return ownersOf(rows);
  }

  /**
   * Claims for `userId` the ids nobody owns yet, in order, as many as its cap leaves room for; the rest stay
   * unclaimed (absent from `owners` unless someone else owns them).
   */
  async claim(name: string, clientIds: readonly number[], userId: string, limit: ClaimLimit): Promise<ClaimResult> {
    if (clientIds.length === 0) return { owners: new Map(), cappedForMs: null };
    return this.db.transaction(async (tx) => {
      // Two int4 keys: a key space of its own (the one-key advisory locks elsewhere never collide with these).
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [name, userId]);
      const { rows: recent } = await tx.query<{ claims: number; frees_in_ms: number | null }>(
        `SELECT count(*)::int AS claims,
                (extract(epoch FROM min(claimed_at) + $3::float8 * interval '1 millisecond' - now()) * 1000)::float8 AS frees_in_ms
           FROM document_clients
          WHERE name = $1 AND user_id = $2 AND claimed_at > now() - $3::float8 * interval '1 millisecond'`,
        [name, userId, limit.windowMs],
      );
      const claims = recent[0]?.claims ?? 0;
      const tried = clientIds.slice(0, Math.max(0, limit.max - claims));
      let owners = new Map<number, string>();
      let claimed = 0;
      if (tried.length > 0) {
        // The outer SELECT sees the table as before the insert: the two halves never overlap.
        const { rows } = await tx.query<OwnerRow & { claimed: boolean }>(
          `WITH claimed AS (
             INSERT INTO document_clients (name, client_id, user_id)
             SELECT $1, id, $3 FROM unnest($2::bigint[]) AS id
             ON CONFLICT (name, client_id) DO NOTHING
             RETURNING client_id, user_id
           )
           SELECT client_id, user_id, true AS claimed FROM claimed
           UNION ALL
           SELECT client_id, user_id, false FROM document_clients WHERE name = $1 AND client_id = ANY($2::bigint[])`,
          [name, tried.map(String), userId],
        );
        owners = ownersOf(rows);
        claimed = rows.filter((r) => r.claimed).length;
      }
      const capped = claims + claimed >= limit.max;
      // No claim in the window before these: the oldest is one of these, leaving it a whole window from now.
      return { owners, cappedForMs: capped ? Math.max(0, recent[0]?.frees_in_ms ?? limit.windowMs) : null };
    });
  }
}
