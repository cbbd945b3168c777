/**
 * Document persistence queries (an edit is appended before it is acknowledged). The log is append-only, a batch's
 * updates of one document in one row (./packed-updates.ts); compaction folds rows into the snapshot and deletes
 * exactly the rows it folded (never "up to a sequence number": a row with a lower seq may commit later).
 */
import { createHash } from 'node:crypto';
import { asBytes, toParam, type Db, type Queryable } from './db.js';
import { logRowsOf, updatesOfRow, type UpdateRow } from './packed-updates.js';

export type { UpdateRow } from './packed-updates.js';

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

/** What a row of LOAD_SELECT or LOG_SELECT is. */
enum RowKind {
  Snapshot = 0,
  Update = 1,
  Packed = 2,
}

/** A document's log rows in append order: their kind (RowKind), bytes and seq. */
const LOG_SELECT = `SELECT CASE WHEN packed THEN ${RowKind.Packed} ELSE ${RowKind.Update} END AS kind, update AS data, NULL::bytea AS sha256, seq
  FROM document_updates WHERE name = $1`;

/** A document's snapshot (seq 0, with its checksum), then its log rows (seq from 1) in append order. */
const LOAD_SELECT = `SELECT ${RowKind.Snapshot} AS kind, snapshot AS data, snapshot_sha256 AS sha256, 0::bigint AS seq FROM documents WHERE name = $1 AND snapshot IS NOT NULL
  UNION ALL
  ${LOG_SELECT}
  ORDER BY seq`;

/** Postgres caps one statement at 65,535 parameters; three per row. */
export const MAX_ROWS_PER_INSERT = 1000;

interface StoredRow {
  kind: number;
  data: Uint8Array | null;
  sha256: Uint8Array | null;
  seq: string;
}

/**
 * The rows of `select`: on Postgres in binary (COPY), where a bytea is its bytes, not hex text twice as long that
 * pg parses again on the event loop (ten times the CPU for a log of small rows).
 */
async function selectRows(q: Queryable, select: string, name: string): Promise<StoredRow[]> {
  if (!q.selectBinary) {
    const { rows } = await q.query<{ kind: number; data: unknown; sha256: unknown; seq: string | number }>(select, [name]);
    return rows.map((r) => ({
      kind: Number(r.kind),
      data: asBytes(r.data),
      sha256: r.sha256 == null ? null : asBytes(r.sha256),
      seq: String(r.seq),
    }));
  }
  return (await q.selectBinary(select, [name])).map(([kind, data, sha256, seq]) => ({
    kind: (kind as Buffer).readInt32BE(0),
    data: data ?? null,
    sha256: sha256 ?? null,
    seq: (seq as Buffer).readBigInt64BE(0).toString(),
  }));
}

/** The updates of log rows, unpacked, in order. */
function updatesOf(rows: readonly StoredRow[]): Uint8Array[] {
  const updates: Uint8Array[] = [];
  for (const row of rows) {
    if (row.kind === RowKind.Snapshot || row.data === null) continue;
    for (const update of updatesOfRow(row.data, row.kind === RowKind.Packed)) updates.push(update);
  }
  return updates;
}

export class DocumentStore {
  constructor(private readonly db: Db) {}

  /** Appends updates in one statement (several documents may share a batch; each document's updates share a row). */
  async append(appends: readonly UpdateRow[]): Promise<void> {
    if (appends.length === 0) return;
    if (appends.length > MAX_ROWS_PER_INSERT) throw new RangeError(`at most ${MAX_ROWS_PER_INSERT} updates per append`);
    const values: string[] = [];
    const params: unknown[] = [];
    for (const row of logRowsOf(appends)) {
      params.push(row.name, toParam(row.data), row.packed);
      values.push(`($${params.length - 2}, $${params.length - 1}, $${params.length})`);
    }
    await this.db.query(`INSERT INTO document_updates (name, update, packed) VALUES ${values.join(', ')}`, params);
  }

  /**
   * Snapshot and log rows read in one statement, so a concurrent compaction can never make us miss rows. On Postgres
   * the rows come in binary (COPY): a 10 MB snapshot is 10 MB on the wire, not 20 MB of hex text decoded again here.
   */
  async load(name: string): Promise<StoredDocument> {
    const rows = await selectRows(this.db, LOAD_SELECT, name);
    const head = rows[0]?.kind === RowKind.Snapshot ? rows[0] : undefined;
    return { snapshot: head?.data ?? null, snapshotSha256: head?.sha256 ?? null, updates: updatesOf(rows) };
  }

  /** The document's log rows (a row holds one update, or the updates of one batch). */
  async logRowCount(name: string): Promise<number> {
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
      await tx.query('SELECT 1 FROM documents WHERE name = $1 FOR UPDATE', [name]);
      const rows = await selectRows(tx, LOAD_SELECT, name);
      const head = rows[0]?.kind === RowKind.Snapshot ? rows[0] : undefined;
      const log = head ? rows.slice(1) : rows;
      if (log.length === 0) return 0;
      const merged = await merge({ snapshot: head?.data ?? null, snapshotSha256: head?.sha256 ?? null, updates: updatesOf(log) });
      await tx.query('UPDATE documents SET snapshot = $2, snapshot_sha256 = $3, compacted_at = now() WHERE name = $1', [
        name,
        toParam(merged),
        snapshotChecksum(merged),
      ]);
      await tx.query('DELETE FROM document_updates WHERE name = $1 AND seq = ANY($2::bigint[])', [name, log.map((r) => r.seq)]);
      return log.length;
    });
  }
}
