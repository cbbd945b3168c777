/**
 * Presentations and per-presentation roles: owner, editor, commenter, viewer (what each may do:
 * server/access/policy.ts).
 */
import type { Db } from './db.js';

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

const iso = (v: Date | string) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

export class PresentationStore {
  constructor(private readonly db: Db) {}

  async get(id: string): Promise<Presentation | null> {
    const { rows } = await this.db.query<PresentationRow>('SELECT * FROM presentations WHERE id = $1', [id]);
    const row = rows[0];
    return row ? { id: row.id, title: row.title, createdBy: row.created_by, createdAt: iso(row.created_at) } : null;
  }

  /**
   * Creates the presentation with `userId` as owner. Returns `created: false` (and changes nothing) when it exists.
   */
  async create(id: string, userId: string, title: string | null = null): Promise<{ created: boolean }> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx.query(
        'INSERT INTO presentations (id, title, created_by) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING id',
        [id, title, userId],
      );
      if (inserted.rows.length === 0) return { created: false };
      await tx.query(
        "INSERT INTO presentation_members (presentation_id, user_id, role) VALUES ($1, $2, 'owner')",
        [id, userId],
      );
      return { created: true };
    });
  }

  async updateTitle(id: string, title: string | null): Promise<void> {
    await this.db.query('UPDATE presentations SET title = $2 WHERE id = $1', [id, title]);
  }

  /** The user's role, or null for a stranger (or a presentation that does not exist). */
  async roleOf(id: string, userId: string): Promise<Role | null> {
    const { rows } = await this.db.query<{ role: string }>(
      'SELECT role FROM presentation_members WHERE presentation_id = $1 AND user_id = $2',
      [id, userId],
    );
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
  }

  /** Removes a member; returns false when the user was not a member. */
  async removeMember(id: string, userId: string): Promise<boolean> {
    const { rows } = await this.db.query(
      'DELETE FROM presentation_members WHERE presentation_id = $1 AND user_id = $2 RETURNING user_id',
      [id, userId],
    );
    return rows.length > 0;
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
