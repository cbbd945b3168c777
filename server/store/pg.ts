import pg from 'pg';
import type { Db, Queryable } from './db.js';

/** What opens every binary COPY stream (then a 32-bit flags word and a header extension of a given length). */
const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * `COPY (…) TO STDOUT (FORMAT binary)` as a pg Submittable (the interface pg-cursor and pg-query-stream use): the
 * CopyData it is sent, in one Buffer once Postgres is ready for the next query.
 */
class BinaryCopyOut implements pg.Submittable {
  readonly done: Promise<Buffer>;
  private readonly chunks: Buffer[] = [];
  private resolve!: (bytes: Buffer) => void;
  private reject!: (err: unknown) => void;

  constructor(private readonly text: string) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: pg.Connection): void {
    connection.query(this.text);
  }

  /** A view into pg's read buffer, which pg may write over: copied. */
  handleCopyData(message: { chunk: Buffer }): void {
    this.chunks.push(Buffer.from(message.chunk));
  }

  handleReadyForQuery(): void {
    this.resolve(this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks));
  }

  /** An error from Postgres (pg detaches the query then: no ReadyForQuery follows for it) or a lost connection. */
  handleError(err: unknown): void {
    this.reject(err);
  }

  handleCommandComplete(): void {}

  // Not sent for a COPY TO; a query that turned out to be something else fails instead of being misread.
  handleRowDescription(): void {
    this.reject(new Error('expected a COPY TO STDOUT, got rows'));
  }
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: pg.Connection & { sendCopyFail(reason: string): void }): void {
    connection.sendCopyFail('not a COPY FROM');
    this.reject(new Error('expected a COPY TO STDOUT, got a COPY FROM'));
  }
}

/** The tuples of a binary COPY stream, as their fields' bytes (views into `bytes`), null for NULL. */
export function parseBinaryCopy(bytes: Buffer): (Buffer | null)[][] {
  if (bytes.byteLength < COPY_SIGNATURE.byteLength + 8 || !bytes.subarray(0, COPY_SIGNATURE.byteLength).equals(COPY_SIGNATURE)) {
    throw new Error('not a binary COPY stream');
  }
  let at = COPY_SIGNATURE.byteLength + 4; // the flags: no bit this reader depends on
  at += 4 + bytes.readUInt32BE(at); // the header extension, skipped
  const rows: (Buffer | null)[][] = [];
  for (;;) {
    const fields = bytes.readInt16BE(at);
    at += 2;
    if (fields === -1) return rows; // the trailer
    const row: (Buffer | null)[] = [];
    for (let i = 0; i < fields; i++) {
      const length = bytes.readInt32BE(at);
      at += 4;
      if (length === -1) row.push(null);
      else {
        if (at + length > bytes.byteLength) throw new Error('truncated binary COPY stream');
        row.push(bytes.subarray(at, at + length));
        at += length;
      }
    }
    rows.push(row);
  }
}

async function copyBinary(client: pg.PoolClient, select: string, params: string[]): Promise<(Buffer | null)[][]> {
  const copy = client.query(new BinaryCopyOut(`COPY (${inlineParams(select, params)}) TO STDOUT (FORMAT binary)`));
  return parseBinaryCopy(await copy.done);
}

/** `select` with `$1`, `$2`… replaced by the quoted literals of `params` (COPY takes no bind parameters). */
function inlineParams(select: string, params: string[]): string {
  return select.replace(/\$(\d+)/g, (_, n: string) => {
    const value = params[Number(n) - 1];
    if (value === undefined) throw new RangeError(`no value for $${n}`);
    return pg.escapeLiteral(value);
  });
}

export interface PgOptions {
  connectionString: string;
  max: number;
  /** Fail a query instead of waiting forever when Postgres is unreachable. */
  connectionTimeoutMillis?: number;
  statementTimeoutMillis?: number;
}

export function createPgDb(options: PgOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
    statement_timeout: options.statementTimeoutMillis ?? 30_000,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
  });
  // An idle client losing its connection (Postgres restarted) must not crash the process.
  pool.on('error', () => {});

  const wrap = (client: pg.Pool | pg.PoolClient): Omit<Queryable, 'selectBinary'> => ({
    async query<R>(sql: string, params?: unknown[]) {
      const result = await client.query(sql, params as unknown[]);
      return { rows: result.rows as R[] };
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  });
  const root = wrap(pool);
  /** On a transaction's client: a failure fails the transaction, which releases the client. */
  const inTransaction = (client: pg.PoolClient): Queryable => ({
    ...wrap(client),
    selectBinary: (select, params) => copyBinary(client, select, params),
  });

  return {
    kind: 'postgres',
    query: root.query,
    exec: root.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(inTransaction(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async selectBinary(select: string, params: string[]) {
      const client = await pool.connect();
      let failure: unknown;
      try {
        return await copyBinary(client, select, params);
      } catch (err) {
        failure = err;
        throw err;
      } finally {
        // As pg's own pool.query does: a client whose query failed is not reused.
        client.release(failure instanceof Error ? failure : undefined);
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}
