/** A fresh database per test file on the run's Postgres, so files never see each other's rows. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import * as Y from 'yjs';
import { updatesOfRow } from '../../server/store/packed-updates.js';
import { inject } from 'vitest';

export async function createTestDatabase(prefix = 't'): Promise<string> {
  const adminUrl = inject('postgresUrl');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return adminUrl.replace(/\/[^/]*$/, `/${name}`);
}

/** Runs one query against a database URL (assertions on what Postgres holds). */
export async function queryDb<R = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as R[];
  } finally {
    await client.end();
  }
}

/**
 * The document as Postgres holds it (snapshot plus every log row), read directly: what a fresh load would see,
 * with no server involved.
 */
export async function loadFromDatabase(url: string, documentName: string): Promise<Y.Doc> {
  // The snapshot, then the log in append order, as the server loads it: Yjs may leave updates applied out of causal
  // order pending for good (seen when rows came back in heap order after a compaction).
  const rows = await queryDb<{ update: Buffer; packed: boolean }>(
    url,
    `SELECT update, packed FROM (
       SELECT 0 AS kind, 0::bigint AS seq, snapshot AS update, false AS packed FROM documents WHERE name = $1 AND snapshot IS NOT NULL
       UNION ALL SELECT 1, seq, update, packed FROM document_updates WHERE name = $1
     ) parts ORDER BY kind, seq`,
    [documentName],
  );
  const doc = new Y.Doc();
  for (const row of rows) for (const update of updatesOfRow(row.update, row.packed)) Y.applyUpdate(doc, update);
  return doc;
}
