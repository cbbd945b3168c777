/**
 * Who owns each Yjs client id of a document (migration 007): claimed by the first user who writes under it or
 * introduces it in awareness, for good. A user claims at most `max` new ids in a document per `windowMs`: the
 * function `claim_document_clients` (migration 008) looks up, counts and inserts in one round trip, under a
 * transaction-level advisory lock on (document, user), so claims racing on several instances never pass the cap
 * together.
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

interface ClaimRow {
  owner_client_ids: (string | number)[] | null;
  owner_user_ids: string[] | null;
  capped_for_ms: number | null;
}

export class DocumentClientStore {
  constructor(private readonly db: Db) {}

  /**
   * Claims `clientId` for `owner` outside any user's cap (the server's own document client id: one per load of the
   * document on an instance). Returns the id's owner: `owner`, or whoever held it already.
   */
  async claimOne(name: string, clientId: number, owner: string): Promise<string> {
    const { rows } = await this.db.query<{ user_id: string }>(
      `WITH claimed AS (
         INSERT INTO document_clients (name, client_id, user_id) VALUES ($1, $2, $3)
         ON CONFLICT (name, client_id) DO NOTHING RETURNING user_id
       )
       SELECT user_id FROM claimed UNION ALL SELECT user_id FROM document_clients WHERE name = $1 AND client_id = $2`,
      [name, String(clientId), owner],
    );
    return rows[0]?.user_id ?? owner;
  }

  /**
   * The owners of `clientIds`; with a `limit`, first claims for `userId` the ids nobody owns yet, in order, as many
   * as its cap leaves room for (the rest stay unclaimed: absent from `owners` unless someone else owns them).
   */
  async claim(name: string, clientIds: readonly number[], userId: string, limit: ClaimLimit | null): Promise<ClaimResult> {
    if (clientIds.length === 0) return { owners: new Map(), cappedForMs: null };
    const { rows } = await this.db.query<ClaimRow>('SELECT * FROM claim_document_clients($1, $2::bigint[], $3, $4, $5, $6)', [
      name,
      clientIds.map(String),
      userId,
      limit !== null,
      limit?.max ?? 0,
      limit?.windowMs ?? 0,
    ]);
    const row = rows[0];
    const ids = row?.owner_client_ids ?? [];
    const users = row?.owner_user_ids ?? [];
    return {
      owners: new Map(ids.map((id, i) => [Number(id), users[i] as string])),
      cappedForMs: row?.capped_for_ms ?? null,
    };
  }
}
