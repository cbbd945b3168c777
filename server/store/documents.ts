/**
 * Document persistence queries (an edit is appended before it is acknowledged). The log is append-only; compaction
 * folds rows into the snapshot and
 * deletes exactly the rows it folded (never "up to a sequence number": a row with a lower seq may commit later).
 */
import { createHash } from 'node:crypto';
import { asBytes, toParam, type Db } from './db.js';

export interface UpdateRow {
  name: string;
  update: Uint8Array;
}

export interface StoredDocument {
  snapshot: Uint8Array | null;
  /** The SHA-256 stored with the snapshot (null for snapshots written before checksums, or none). */
  snapshotSha256?: Uint8Array | null;
  updates: Uint8Array[];
}

/** The checksum compaction stores with a snapshot (about 25 ms for 10 MB, against ~0.5 s to decode it). */
export function snapshotChecksum(snapshot: Uint8Array): Buffer {
  return createHash('sha256').update(snapshot).digest();
}

/** True when the snapshot is byte for byte the one its stored checksum was computed from. */
export function snapshotIntact(stored: StoredDocument): boolean {
  const { snapshot, snapshotSha256 } = stored;
  return snapshot != null && snapshotSha256 != null && snapshotChecksum(snapshot).equals(snapshotSha256);
}

/** A document's snapshot (kind 0, with its checksum) and its log rows (kind 1) in append order. */
const LOAD_SELECT = `SELECT 0 AS kind, snapshot AS data, snapshot_sha256 AS sha256, 0::bigint AS seq FROM documents WHERE name = $1 AND snapshot IS NOT NULL
  UNION ALL
  SELECT 1 AS kind, update AS data, NULL AS sha256, seq FROM document_updates WHERE name = $1
  ORDER BY kind, seq`;

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

  /**
   * Snapshot and log rows read in one statement, so a concurrent compaction can never make us miss rows. On Postgres
   * the rows come in binary (COPY): a 10 MB snapshot is 10 MB on the wire, not 20 MB of hex text decoded again here.
   */
  async load(name: string): Promise<StoredDocument> {
    const rows = this.db.selectBinary
      ? (await this.db.selectBinary(LOAD_SELECT, [name])).map(([kind, data, sha256]) => ({ kind: kind!.readInt32BE(0), data, sha256 }))
      : (await this.db.query<{ kind: number; data: unknown; sha256: unknown }>(LOAD_SELECT, [name])).rows;
    let snapshot: Uint8Array | null = null;
    let snapshotSha256: Uint8Array | null = null;
    const updates: Uint8Array[] = [];
    for (const row of rows) {
      if (Number(row.kind) === 0) {
        snapshot = asBytes(row.data);
        snapshotSha256 = row.sha256 == null ? null : asBytes(row.sha256);
      } else updates.push(asBytes(row.data));
    }
    return { snapshot, snapshotSha256, updates };
  }

  async pendingUpdateCount(name: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string | number }>('SELECT count(*) AS n FROM document_updates WHERE name = $1', [name]);
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Folds the snapshot and the log into a new snapshot, from what is in the database, in one transaction.
   * `merge` gets the current snapshot and rows and returns (or resolves to) the new snapshot. The documents row is locked
   * (FOR UPDATE) so concurrent compactions of one document, from any instance, run one after the other.
   * Returns the number of rows folded.
   */
  async compact(name: string, merge: (stored: StoredDocument) => Uint8Array | Promise<Uint8Array>): Promise<number> {
    return this.db.transaction(async (tx) => {
      await tx.query('INSERT INTO documents (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
      const head = await tx.query<{ snapshot: unknown; snapshot_sha256: unknown }>(
        'SELECT snapshot, snapshot_sha256 FROM documents WHERE name = $1 FOR UPDATE',
        [name],
      );
      const { rows } = await tx.query<{ seq: string | number; update: unknown }>(
        'SELECT seq, update FROM document_updates WHERE name = $1 ORDER BY seq',
        [name],
      );
      if (rows.length === 0) return 0;
      const snapshotValue = head.rows[0]?.snapshot;
      const sha256Value = head.rows[0]?.snapshot_sha256;
      const merged = await merge({
        snapshot: snapshotValue == null ? null : asBytes(snapshotValue),
        snapshotSha256: sha256Value == null ? null : asBytes(sha256Value),
        updates: rows.map((r) => asBytes(r.update)),
      });
      await tx.query('UPDATE documents SET snapshot = $2, snapshot_sha256 = $3, compacted_at = now() WHERE name = $1', [
        name,
        toParam(merged),
        snapshotChecksum(merged),
      ]);
      await tx.query('DELETE FROM document_updates WHERE name = $1 AND seq = ANY($2::bigint[])', [name, rows.map((r) => String(r.seq))]);
      return rows.length;
    });
  }
}
