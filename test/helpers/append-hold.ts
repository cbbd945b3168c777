/**
 * Chaos for the update log, in real Postgres: hold back the INSERTs of the rows whose update bytes contain a marker
 * (a trigger on document_updates waits on an advisory lock the test holds), while every other append goes through.
 * With two markers a test decides which of two queued appends commits first.
 */
import pg from 'pg';
import { queryDb } from './database.js';

const SETUP = `
CREATE TABLE IF NOT EXISTS test_append_holds (marker bytea NOT NULL, lock_key bigint NOT NULL);
CREATE OR REPLACE FUNCTION test_hold_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE k bigint;
BEGIN
  FOR k IN SELECT lock_key FROM test_append_holds WHERE position(marker IN NEW.update) > 0 LOOP
    PERFORM pg_advisory_xact_lock_shared(k);
  END LOOP;
  RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER test_hold_append BEFORE INSERT ON document_updates FOR EACH ROW EXECUTE FUNCTION test_hold_append();
`;

let nextKey = 7_000_000 + Math.floor(Math.random() * 1_000_000);

/** Holds every append whose update contains `marker` (UTF-8) until the returned function is called. */
export async function holdAppendsContaining(databaseUrl: string, marker: string): Promise<() => Promise<void>> {
  const key = nextKey++;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(SETUP);
  await client.query('SELECT pg_advisory_lock($1)', [key]);
  await client.query('INSERT INTO test_append_holds (marker, lock_key) VALUES ($1, $2)', [Buffer.from(marker, 'utf8'), key]);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    await client.query('DELETE FROM test_append_holds WHERE lock_key = $1', [key]);
    await client.query('SELECT pg_advisory_unlock($1)', [key]);
    await client.end();
  };
}

/** How many INSERTs into the update log wait on a hold (or, with `anyLock`, on any lock: blockAllAppends). */
export async function heldAppends(databaseUrl: string, anyLock = false): Promise<number> {
  const rows = await queryDb(
    databaseUrl,
    `SELECT 1 FROM pg_stat_activity WHERE ${anyLock ? "wait_event_type = 'Lock'" : "wait_event = 'advisory'"} AND query ILIKE '%INSERT INTO document_updates%'`,
  );
  return rows.length;
}

/** Blocks every append to the update log (reads go on) until the returned function is called. */
export async function blockAllAppends(databaseUrl: string): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE document_updates IN EXCLUSIVE MODE');
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    await client.query('ROLLBACK');
    await client.end();
  };
}

/**
 * Ends the sessions whose INSERT waits on a lock: a killed server's connection would otherwise still commit once the
 * lock goes (Postgres does not notice the dead client while the statement waits).
 */
export async function terminateWaitingAppends(databaseUrl: string): Promise<void> {
  await queryDb(
    databaseUrl,
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO document_updates%'",
  );
}

/** Waits for an async condition (a database query), polling. */
export async function untilAsync(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
