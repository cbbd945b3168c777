/**
 * Who owns each Yjs client id of a document (migration 004): claimed by the first user who writes under it or
 * introduces it in awareness, for good. One statement claims several ids and returns every id's owner.
 */
import type { Db } from './db.js';

export class DocumentClientStore {
  constructor(private readonly db: Db) {}

  /** Claims the ids nobody owns yet for `userId`; returns the owner of each id (the claimer's or an earlier one). */
  async claim(name: string, clientIds: readonly number[], userId: string): Promise<Map<number, string>> {
    if (clientIds.length === 0) return new Map();
    const ids = clientIds.map(String);
    // The outer SELECT sees the table as before the insert: the two halves never overlap.
    const { rows } = await this.db.query<{ client_id: string | number; user_id: string }>(
      `WITH claimed AS (
         INSERT INTO document_clients (name, client_id, user_id)
         SELECT $1, id, $3 FROM unnest($2::bigint[]) AS id
         ON CONFLICT (name, client_id) DO NOTHING
         RETURNING client_id, user_id
       )
       SELECT client_id, user_id FROM claimed
       UNION ALL
       SELECT client_id, user_id FROM document_clients WHERE name = $1 AND client_id = ANY($2::bigint[])`,
      [name, ids, userId],
    );
    return new Map(rows.map((r) => [Number(r.client_id), r.user_id]));
  }
}
