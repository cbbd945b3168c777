/**
 * Keyset page cursors for lists ordered newest first by (created_at, id): the cursor is the last row's key, as
 * base64url JSON. The timestamp travels as Postgres' own text with microseconds (never a JS Date, which would drop
 * them), so the next page starts exactly after the last row, even for rows created in the same millisecond.
 */
export interface PageKey {
  /** created_at as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds). */
  at: string;
  id: string;
}

/** SQL for a row's timestamp column as a cursor timestamp (exact to the microsecond). */
export function cursorAtSql(column = 'created_at'): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

const AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodePageCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify([key.at, key.id])).toString('base64url');
}

/** The key in a cursor; null when it is not one this server issued. */
export function decodePageCursor(cursor: string): PageKey | null {
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [at, id] = value as unknown[];
    if (typeof at !== 'string' || !AT.test(at) || typeof id !== 'string' || id.length === 0 || id.length > 300) return null;
    return { at, id };
  } catch {
    return null;
  }
}

/** A page of `limit` rows read as `limit + 1`: the extra row only says that there is a next page. */
export function toPage<R extends { cursor_at: string }, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  idOf: (row: R) => string,
): { items: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(map),
    nextCursor: rows.length > limit && last ? encodePageCursor({ at: last.cursor_at, id: idOf(last) }) : null,
  };
}
