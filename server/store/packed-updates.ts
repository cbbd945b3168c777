/**
 * Log rows that hold several updates of one document (document_updates.packed, migration 009). The update log
 * writes a batch of appends in one INSERT; the appends of one document in a batch become one row. A row costs
 * Postgres a heap tuple, an index entry and their WAL, and compaction reads and deletes every row again: at a few
 * thousand updates/s that cost dominated the INSERT (15–25 µs per update as separate rows at 10–30 per batch,
 * 4–14 µs packed), and a busy document's compaction had tens of thousands of rows to read and delete at once.
 * The rows commit in the same statement either way, so packing changes nothing about what is durable when.
 *
 * A packed row is lib0-encoded: the number of updates, then each update as a length-prefixed byte array. Updates are
 * not merged (Y.mergeUpdates costs 10–20 µs per update on the event loop): they are applied one by one on load.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/** A packed row holds at most this many bytes of updates; the next updates of the document start another row. */
export const MAX_PACKED_ROW_BYTES = 1 << 20;

export interface UpdateRow {
  name: string;
  update: Uint8Array;
}

export interface LogRow {
  name: string;
  /** One update, or several packed (packUpdates). */
  data: Uint8Array;
  packed: boolean;
}

export function packUpdates(updates: readonly Uint8Array[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, updates.length);
  for (const update of updates) encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
}

/** The updates of a packed row (views into `bytes`). Throws on bytes that are not a packed row. */
export function unpackUpdates(bytes: Uint8Array): Uint8Array[] {
  const decoder = decoding.createDecoder(bytes);
  const count = decoding.readVarUint(decoder);
  // Each update takes at least its one-byte length: a count beyond that is not a packed row.
  if (count > bytes.byteLength) throw new RangeError('not a packed row');
  const updates: Uint8Array[] = [];
  for (let i = 0; i < count; i++) updates.push(decoding.readVarUint8Array(decoder));
  if (decoding.hasContent(decoder)) throw new RangeError('trailing bytes after a packed row');
  return updates;
}

/**
 * The updates a stored row holds. A packed row that cannot be read is returned whole, as one update, so that the
 * caller's check of every update reports it as an undecodable row (as it does a corrupt plain row) and skips it.
 */
export function updatesOfRow(data: Uint8Array, packed: boolean): Uint8Array[] {
  if (!packed) return [data];
  try {
    return unpackUpdates(data);
  } catch {
    return [data];
  }
}

/** The rows for a batch of appends: per document, its updates in append order, packed up to MAX_PACKED_ROW_BYTES. */
export function logRowsOf(appends: readonly UpdateRow[]): LogRow[] {
  const byName = new Map<string, Uint8Array[]>();
  for (const { name, update } of appends) {
    const updates = byName.get(name);
    if (updates) updates.push(update);
    else byName.set(name, [update]);
  }
  const rows: LogRow[] = [];
  for (const [name, updates] of byName) {
    let group: Uint8Array[] = [];
    let bytes = 0;
    const flush = () => {
      if (group.length === 1) rows.push({ name, data: group[0] as Uint8Array, packed: false });
      else if (group.length > 1) rows.push({ name, data: packUpdates(group), packed: true });
      group = [];
      bytes = 0;
    };
    for (const update of updates) {
      if (bytes + update.byteLength > MAX_PACKED_ROW_BYTES) flush();
      group.push(update);
      bytes += update.byteLength;
    }
    flush();
  }
  return rows;
}
