/**
 * A Yjs (v1) update decoded once and indexed for the guard: its structs per client in clock order, its delete
 * ranges per client, and lookups by id. Decoding validates the update; an update that Yjs would read differently
 * from how it decodes (a client's structs in two sections, where `applyUpdate` keeps only the last; clocks that are
 * not contiguous within a client) is malformed too, so what the guard judges is exactly what would be applied.
 */
import * as Y from 'yjs';

export type Struct = Y.Item | Y.GC | Y.Skip;

export interface DeleteRange {
  clock: number;
  len: number;
}

export class MalformedUpdateError extends Error {
  constructor(detail: string) {
    super(`malformed Yjs update: ${detail}`);
    this.name = 'MalformedUpdateError';
  }
}

export class DecodedUpdate {
  /** client → its structs, contiguous, in clock order. */
  readonly clients = new Map<number, Struct[]>();
  /** client → delete ranges, sorted by clock and merged. */
  readonly deletes = new Map<number, DeleteRange[]>();
  readonly structCount: number;

  constructor(readonly bytes: Uint8Array) {
    let decoded: { structs: Struct[]; ds: { clients: Map<number, DeleteRange[]> } };
    let sections: number;
    try {
      decoded = Y.decodeUpdate(bytes) as never;
      sections = firstVarUint(bytes);
    } catch (err) {
      throw new MalformedUpdateError(err instanceof Error ? err.message : 'undecodable');
    }
    for (const struct of decoded.structs) {
      const list = this.clients.get(struct.id.client);
      if (!list) this.clients.set(struct.id.client, [struct]);
      else {
        const last = list[list.length - 1] as Struct;
        if (struct.id.clock !== last.id.clock + last.length) throw new MalformedUpdateError('clocks of a client are not contiguous');
        list.push(struct);
      }
    }
    if (sections !== this.clients.size) throw new MalformedUpdateError('a client appears in more than one section');
    this.structCount = decoded.structs.length;
    for (const [client, ranges] of decoded.ds.clients) {
      const merged: DeleteRange[] = [];
      for (const r of ranges.filter((x) => x.len > 0).sort((a, b) => a.clock - b.clock)) {
        const last = merged[merged.length - 1];
        if (last && r.clock <= last.clock + last.len) last.len = Math.max(last.len, r.clock + r.len - last.clock);
        else merged.push({ clock: r.clock, len: r.len });
      }
      if (merged.length > 0) this.deletes.set(client, merged);
    }
  }

  get isEmpty(): boolean {
    return this.structCount === 0 && this.deletes.size === 0;
  }

  /** The struct of this update that holds `id`, if any. */
  find(id: Y.ID): Struct | undefined {
    const list = this.clients.get(id.client);
    if (!list) return undefined;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = list[mid] as Struct;
      if (id.clock < s.id.clock) hi = mid - 1;
      else if (id.clock >= s.id.clock + s.length) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /** Whether this update's delete set covers `id`. */
  isDeleted(id: Y.ID): boolean {
    const ranges = this.deletes.get(id.client);
    if (!ranges) return false;
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = ranges[mid] as DeleteRange;
      if (id.clock < r.clock) hi = mid - 1;
      else if (id.clock >= r.clock + r.len) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

/** The update's first number (how many client sections it has), read as lib0 writes a varUint. */
function firstVarUint(bytes: Uint8Array): number {
  let value = 0;
  let shift = 1;
  for (let i = 0; i < bytes.length && i < 8; i++) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * shift;
    if (byte < 0x80) return value;
    shift *= 128;
  }
  throw new MalformedUpdateError('unreadable section count');
}
