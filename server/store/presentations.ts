/**
 * Presentations and per-presentation roles: owner, editor, commenter, viewer (what each may do:
 * server/access/policy.ts).
 */
import { documentName } from '../../shared/presentation.js';
import type { Db, Queryable } from './db.js';
import { cursorAtSql, toPage, type PageKey } from './page-cursor.js';

export const ROLES = ['owner', 'editor', 'commenter', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export interface Presentation {
  id: string;
  title: string | null;
  createdBy: string;
  createdAt: string;
}

export interface Member {
  userId: string;
  role: Role;
  updatedAt: string;
}

interface PresentationRow {
  id: string;
  title: string | null;
  created_by: string;
  created_at: Date | string;
}

/** A presentation as its member sees it in a list. */
export interface MemberPresentation {
  id: string;
  title: string | null;
  role: Role;
  createdAt: string;
  /** The later of the row's last change (title, members) and the stored document's (newest log row, last compaction). */
  updatedAt: string;
}

export interface MemberPresentationPage {
  presentations: MemberPresentation[];
  nextCursor: string | null;
}

const iso = (v: Date | string) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

/**
 * Deletes what a presentation's document stored: its snapshot row and its update log (counted), and the owners of
 * its Yjs client ids (a presentation created again under the id starts with none).
 */
async function deleteDocumentRows(db: Queryable, id: string): Promise<number> {
  const name = documentName(id);
  const log = await db.query('DELETE FROM document_updates WHERE name = $1 RETURNING 1', [name]);
  const snapshot = await db.query('DELETE FROM documents WHERE name = $1 RETURNING 1', [name]);
  await db.query('DELETE FROM document_clients WHERE name = $1', [name]);
  return log.rows.length + snapshot.rows.length;
}

export class PresentationStore {
  constructor(private readonly db: Db) {}

  async get(id: string): Promise<Presentation | null> {
    const { rows } = await this.db.query<PresentationRow>('SELECT * FROM presentations WHERE id = $1', [id]);
    const row = rows[0];
    return row ? { id: row.id, title: row.title, createdBy: row.created_by, createdAt: iso(row.created_at) } : null;
  }

  /**
   * Creates the presentation with `userId` as owner. Returns `created: false` (and changes nothing) when it exists,
   * or when it was deleted and `reviveDeleted` is not set (opening a deleted presentation must not bring it back;
   * an explicit create does).
   */
  async create(id: string, userId: string, title: string | null = null, options: { reviveDeleted?: boolean } = {}): Promise<{ created: boolean }> {
    return this.db.transaction(async (tx) => {
      if (options.reviveDeleted) await tx.query('DELETE FROM deleted_presentations WHERE id = $1', [id]);
      else if ((await tx.query('SELECT 1 FROM deleted_presentations WHERE id = $1', [id])).rows.length > 0) return { created: false };
      const inserted = await tx.query(
        'INSERT INTO presentations (id, title, created_by) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING id',
        [id, title, userId],
      );
      if (inserted.rows.length === 0) return { created: false };
      await tx.query("INSERT INTO presentation_members (presentation_id, user_id, role) VALUES ($1, $2, 'owner')", [id, userId]);
      return { created: true };
    });
  }

  async updateTitle(id: string, title: string | null): Promise<void> {
    await this.db.query('UPDATE presentations SET title = $2, updated_at = now() WHERE id = $1', [id, title]);
  }

  /** The user's role, or null for a stranger (or a presentation that does not exist). */
  async roleOf(id: string, userId: string): Promise<Role | null> {
    const { rows } = await this.db.query<{ role: string }>('SELECT role FROM presentation_members WHERE presentation_id = $1 AND user_id = $2', [
      id,
      userId,
    ]);
    const role = rows[0]?.role;
    return isRole(role) ? role : null;
  }

  async members(id: string): Promise<Member[]> {
    const { rows } = await this.db.query<{ user_id: string; role: string; updated_at: Date | string }>(
      'SELECT user_id, role, updated_at FROM presentation_members WHERE presentation_id = $1 ORDER BY user_id',
      [id],
    );
    return rows.filter((r) => isRole(r.role)).map((r) => ({ userId: r.user_id, role: r.role as Role, updatedAt: iso(r.updated_at) }));
  }

  async setRole(id: string, userId: string, role: Role): Promise<void> {
    await this.db.query(
      `INSERT INTO presentation_members (presentation_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (presentation_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()`,
      [id, userId, role],
    );
    await this.touch(id);
  }

  /** Removes a member; returns false when the user was not a member. */
  async removeMember(id: string, userId: string): Promise<boolean> {
    const { rows } = await this.db.query('DELETE FROM presentation_members WHERE presentation_id = $1 AND user_id = $2 RETURNING user_id', [
      id,
      userId,
    ]);
    if (rows.length > 0) await this.touch(id);
    return rows.length > 0;
  }

  /** The presentations `userId` is a member of, newest first, with the user's role; a page at a time. */
  async listForMember(userId: string, limit: number, after?: PageKey): Promise<MemberPresentationPage> {
    const params: unknown[] = [userId, limit + 1];
    const keyset = after ? 'AND (p.created_at, p.id) < ($3::timestamptz, $4)' : '';
    if (after) params.push(after.at, after.id);
    const { rows } = await this.db.query<{
      id: string;
      title: string | null;
      role: string;
      created_at: Date | string;
      updated_at: Date | string;
      cursor_at: string;
    }>(
      `WITH page AS (
         SELECT p.id, p.title, m.role, p.created_at, p.updated_at, ${cursorAtSql('p.created_at')} AS cursor_at
         FROM presentation_members m JOIN presentations p ON p.id = m.presentation_id
         WHERE m.user_id = $1 ${keyset}
         ORDER BY p.created_at DESC, p.id DESC LIMIT $2
       )
       SELECT page.id, page.title, page.role, page.created_at, page.cursor_at,
              GREATEST(page.updated_at, d.compacted_at, u.last_update) AS updated_at
       FROM page
       LEFT JOIN documents d ON d.name = 'presentation:' || page.id
       LEFT JOIN LATERAL (SELECT max(created_at) AS last_update FROM document_updates WHERE name = 'presentation:' || page.id) u ON true
       ORDER BY page.created_at DESC, page.id DESC`,
      params,
    );
    const page = toPage(
      rows.filter((r) => isRole(r.role)),
      limit,
      (r) => ({ id: r.id, title: r.title, role: r.role as Role, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at) }),
      (r) => r.id,
    );
    return { presentations: page.items, nextCursor: page.nextCursor };
  }

  /**
   * Deletes the presentation in one transaction: its row (every table that references it cascades: members,
   * versions, activity, chat …), its document's snapshot and log, and marks the id deleted (see `create`).
   * Returns false when there was nothing to delete.
   */
  async delete(id: string, deletedBy: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query('DELETE FROM presentations WHERE id = $1 RETURNING id', [id]);
      if (rows.length === 0) return false;
      await deleteDocumentRows(tx, id);
      await tx.query(
        `INSERT INTO deleted_presentations (id, deleted_by) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET deleted_by = EXCLUDED.deleted_by, deleted_at = now()`,
        [id, deletedBy],
      );
      return true;
    });
  }

  /**
   * Deletes the document rows of a deleted presentation again: what an open copy stored while it was being closed
   * (an edit in flight, the compaction when it left memory). Returns how many rows went.
   */
  async purgeDeletedDocument(id: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const deleted = await tx.query('SELECT 1 FROM deleted_presentations WHERE id = $1', [id]);
      const live = await tx.query('SELECT 1 FROM presentations WHERE id = $1', [id]);
      // Re-created since (an explicit PUT): its document is the new presentation's.
      if (deleted.rows.length === 0 || live.rows.length > 0) return 0;
      return deleteDocumentRows(tx, id);
    });
  }

  private async touch(id: string): Promise<void> {
    await this.db.query('UPDATE presentations SET updated_at = now() WHERE id = $1', [id]);
  }

  async ownerCount(id: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string | number }>(
      "SELECT count(*) AS n FROM presentation_members WHERE presentation_id = $1 AND role = 'owner'",
      [id],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Whether two users are members of at least one common presentation. */
  async shareAPresentation(userA: string, userB: string): Promise<boolean> {
    const { rows } = await this.db.query(
      `SELECT 1 FROM presentation_members a JOIN presentation_members b ON b.presentation_id = a.presentation_id
       WHERE a.user_id = $1 AND b.user_id = $2 LIMIT 1`,
      [userA, userB],
    );
    return rows.length > 0;
  }
}
