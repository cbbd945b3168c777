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

/**
 * No cap (the server's own client ids, one per load of a document on an instance): a window of 0 ms holds no earlier
 * claim, so every free id is claimed.
 */
export const UNCAPPED: ClaimLimit = { max: 2_147_483_647, windowMs: 0 };

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
