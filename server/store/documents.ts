/**
 * Document persistence queries (design §2). The log is append-only; compaction folds rows into the snapshot and
 * deletes exactly the rows it folded (never "up to a sequence number": a row with a lower seq may commit later).
 */
import { asBytes, toParam, type Db } from './db.js';

export interface UpdateRow {
  name: string;
  update: Uint8Array;
}

export interface StoredDocument {
  snapshot: Uint8Array | null;
  updates: Uint8Array[];
}

/** Postgres caps one statement at 65,535 parameters; two per row. */
export const MAX_ROWS_PER_INSERT = 1000;

export class DocumentStore {
  constructor(private readonly db: Db) {}

  /** Appends rows in one statement (several documents may share a batch). */
  async append(rows: readonly UpdateRow[]): Promise<void> {
    if (rows.length === 0) return;
    if (rows.length > MAX_ROWS_PER_INSERT) throw new RangeError(`at most ${MAX_ROWS_PER_INSERT} rows per append`);
    const values: string[] = [];
    const params: unknown[] = [];
    for (const row of rows) {
      params.push(row.name, toParam(row.update));
      values.push(`($${params.length - 1}, $${params.length})`);
    }
    await this.db.query(`INSERT INTO document_updates (name, update) VALUES ${values.join(', ')}`, params);
  }

  /** Snapshot and log rows read in one statement, so a concurrent compaction can never make us miss rows. */
  async load(name: string): Promise<StoredDocument> {
    const { rows } = await this.db.query<{ kind: number; data: unknown }>(
      `SELECT 0 AS kind, snapshot AS data, 0::bigint AS seq FROM documents WHERE name = $1 AND snapshot IS NOT NULL
       UNION ALL
       SELECT 1 AS kind, update AS data, seq FROM document_updates WHERE name = $1
       ORDER BY kind, seq`,
      [name],
    );
    let snapshot: Uint8Array | null = null;
    const updates: Uint8Array[] = [];
    for (const row of rows) {
      if (Number(row.kind) === 0) snapshot = asBytes(row.data);
      else updates.push(asBytes(row.data));
    }
    return { snapshot, updates };
  }

  async pendingUpdateCount(name: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string | number }>(
      'SELECT count(*) AS n FROM document_updates WHERE name = $1',
      [name],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Folds the snapshot and the log into a new snapshot, from what is in the database, in one transaction.
   * `merge` gets the current snapshot and rows and returns the new snapshot. The documents row is locked
   * (FOR UPDATE) so concurrent compactions of one document, from any instance, run one after the other.
   * Returns the number of rows folded.
   */
  async compact(name: string, merge: (stored: StoredDocument) => Uint8Array): Promise<number> {
    return this.db.transaction(async (tx) => {
      await tx.query('INSERT INTO documents (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
      const head = await tx.query<{ snapshot: unknown }>('SELECT snapshot FROM documents WHERE name = $1 FOR UPDATE', [
        name,
      ]);
      const { rows } = await tx.query<{ seq: string | number; update: unknown }>(
        'SELECT seq, update FROM document_updates WHERE name = $1 ORDER BY seq',
        [name],
      );
      if (rows.length === 0) return 0;
      const snapshotValue = head.rows[0]?.snapshot;
      const merged = merge({
        snapshot: snapshotValue == null ? null : asBytes(snapshotValue),
        updates: rows.map((r) => asBytes(r.update)),
      });
      await tx.query('UPDATE documents SET snapshot = $2, compacted_at = now() WHERE name = $1', [name, toParam(merged)]);
      await tx.query('DELETE FROM document_updates WHERE name = $1 AND seq = ANY($2::bigint[])', [
        name,
        rows.map((r) => String(r.seq)),
      ]);
      return rows.length;
    });
  }
}
