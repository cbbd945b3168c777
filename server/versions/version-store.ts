/**
 * Version rows. A version holds its own snapshot: the update log and its compaction never touch these
 * rows, and they go with their presentation (ON DELETE CASCADE).
 */
import { randomUUID } from 'node:crypto';
import type { VersionKind, VersionSummary } from '../../shared/versions.js';
import { asBytes, toParam, type Db, type Queryable } from '../store/db.js';

export interface NewVersion {
  presentationId: string;
  kind: VersionKind;
  label: string | null;
  createdBy: { userId: string; name: string } | null;
  snapshot: Uint8Array;
  contentSha256: Uint8Array;
}

export interface StoredVersion extends VersionSummary {
  snapshot: Uint8Array;
}

interface VersionRow {
  id: string;
  seq: string | number;
  presentation_id: string;
  kind: VersionKind;
  label: string | null;
  created_by: string | null;
  created_by_name: string | null;
  created_at: Date | string;
  size_bytes: number;
  snapshot?: unknown;
}

const SUMMARY_COLUMNS = 'id, seq, presentation_id, kind, label, created_by, created_by_name, created_at, size_bytes';
const iso = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString();

function toSummary(row: VersionRow): VersionSummary {
  return {
    version_id: row.id,
    presentation_id: row.presentation_id,
    label: row.label,
    kind: row.kind,
    created_by: row.created_by,
    created_by_name: row.created_by_name,
    created_at: iso(row.created_at),
    size_bytes: Number(row.size_bytes),
  };
}

async function insertVersion(q: Queryable, version: NewVersion): Promise<VersionSummary> {
  const { rows } = await q.query<VersionRow>(
    `INSERT INTO presentation_versions (id, presentation_id, kind, label, created_by, created_by_name, snapshot, content_sha256, size_bytes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${SUMMARY_COLUMNS}`,
    [
      randomUUID(),
      version.presentationId,
      version.kind,
      version.label,
      version.createdBy?.userId ?? null,
      version.createdBy?.name ?? null,
      toParam(version.snapshot),
      toParam(version.contentSha256),
      version.snapshot.byteLength,
    ],
  );
  return toSummary(rows[0] as VersionRow);
}

export class VersionStore {
  constructor(private readonly db: Db) {}

  insert(version: NewVersion): Promise<VersionSummary> {
    return insertVersion(this.db, version);
  }

  /**
   * Inserts an automatic version unless the latest version (of any kind) shows the same content, or is younger than
   * `minAgeMs` (another instance just took one). Serialized per presentation with a transaction-level advisory lock,
   * so instances taking automatic versions at the same moment add one, not two. Returns null when skipped.
   */
  async insertIfChanged(version: NewVersion, minAgeMs: number): Promise<VersionSummary | null> {
    return this.db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('deckhand.versions:' || $1))", [version.presentationId]);
      const { rows } = await tx.query<{ content_sha256: unknown; age_ms: string | number }>(
        `SELECT content_sha256, EXTRACT(EPOCH FROM (clock_timestamp() - created_at)) * 1000 AS age_ms
         FROM presentation_versions WHERE presentation_id = $1 ORDER BY seq DESC LIMIT 1`,
        [version.presentationId],
      );
      const latest = rows[0];
      if (latest) {
        if (Buffer.from(asBytes(latest.content_sha256)).equals(Buffer.from(version.contentSha256))) return null;
        if (Number(latest.age_ms) < minAgeMs) return null;
      }
      return insertVersion(tx, version);
    });
  }

  /** Newest first; `cursor` (from the previous page) continues with older versions. */
  async list(presentationId: string, limit: number, cursor?: string): Promise<{ versions: VersionSummary[]; nextCursor: string | null }> {
    const params: unknown[] = [presentationId, limit + 1];
    let where = 'presentation_id = $1';
    if (cursor !== undefined) {
      params.push(cursor);
      where += ' AND seq < $3::bigint';
    }
    const { rows } = await this.db.query<VersionRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM presentation_versions WHERE ${where} ORDER BY seq DESC LIMIT $2`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { versions: page.map(toSummary), nextCursor: rows.length > limit && last ? String(last.seq) : null };
  }

  async get(presentationId: string, versionId: string): Promise<StoredVersion | null> {
    const { rows } = await this.db.query<VersionRow>(
      `SELECT ${SUMMARY_COLUMNS}, snapshot FROM presentation_versions WHERE presentation_id = $1 AND id = $2`,
      [presentationId, versionId],
    );
    const row = rows[0];
    return row ? { ...toSummary(row), snapshot: asBytes(row.snapshot) } : null;
  }

  async delete(versionId: string): Promise<void> {
    await this.db.query('DELETE FROM presentation_versions WHERE id = $1', [versionId]);
  }
}
