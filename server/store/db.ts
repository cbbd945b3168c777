/**
 * The store's one interface: Postgres through `pg`, or PGlite (Postgres in WASM) as the embedded default.
 * The same SQL runs on both.
 */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Postgres (pg) only, absent on PGlite: the rows of `select` (its `$n` bound to `params`, inlined as quoted literals:
   * COPY takes no parameters) as their fields' raw bytes in Postgres' binary format, null for NULL. A bytea comes back
   * as its bytes, where a query's text format sends it as hex (twice the bytes, decoded again here).
   */
  selectBinary?(select: string, params: string[]): Promise<(Buffer | null)[][]>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** bytea values come back as Buffer (pg) or Uint8Array (PGlite); both are Uint8Array. */
export function asBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new TypeError('expected a bytea value');
}

/** pg sends Buffers as bytea; a plain Uint8Array view is wrapped without copying. */
export function toParam(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
