/**
 * Writing the update the guard lets through (v1 format, with Yjs' own struct writers): the new structs of each
 * client as one contiguous run from the first clock the document does not have, where every refused struct is a GC
 * struct of the same id and length (the sender's clocks stay contiguous, and no replica integrates the content), and
 * the delete ranges that are allowed.
 */
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import type { DeleteRange } from './decoded-update.js';
import type { NewStruct } from './integration.js';

export interface Rewrite {
  /** New structs in integration order, and whether each is written as GC. */
  structs: { entry: NewStruct; gc: boolean }[];
  deletes: Map<number, DeleteRange[]>;
}

export function encodeRewrite({ structs, deletes }: Rewrite): Uint8Array {
  const byClient = new Map<number, { entry: NewStruct; gc: boolean }[]>();
  for (const s of structs) {
    const client = s.entry.struct.id.client;
    const list = byClient.get(client);
    if (list) list.push(s);
    else byClient.set(client, [s]);
  }
  const encoder = new Y.UpdateEncoderV1();
  encoding.writeVarUint(encoder.restEncoder, byClient.size);
  for (const [client, list] of byClient) {
    // Integration order keeps each client's structs in clock order.
    const first = list[0] as { entry: NewStruct };
    encoding.writeVarUint(encoder.restEncoder, list.length);
    encoder.writeClient(client);
    encoding.writeVarUint(encoder.restEncoder, first.entry.struct.id.clock + first.entry.known);
    for (const { entry, gc } of list) {
      const { struct, known } = entry;
      if (gc || !(struct instanceof Y.Item)) new Y.GC(struct.id, struct.length).write(encoder, known);
      else struct.write(encoder, known);
    }
  }
  encoding.writeVarUint(encoder.restEncoder, deletes.size);
  for (const [client, ranges] of deletes) {
    encoder.resetDsCurVal();
    encoding.writeVarUint(encoder.restEncoder, client);
    encoding.writeVarUint(encoder.restEncoder, ranges.length);
    for (const r of ranges) {
      encoder.writeDsClock(r.clock);
      encoder.writeDsLen(r.len);
    }
  }
  return encoder.toUint8Array();
}

/** Delete ranges per client, collected in any order and sorted and merged once. */
export class DeleteRanges {
  private byClient: Map<number, DeleteRange[]> | undefined;

  add(client: number, clock: number, len: number): void {
    if (len <= 0) return;
    this.byClient ??= new Map();
    const ranges = this.byClient.get(client);
    if (ranges) ranges.push({ clock, len });
    else this.byClient.set(client, [{ clock, len }]);
  }

  get size(): number {
    return this.byClient?.size ?? 0;
  }

  /** Sorted, merged ranges per client. */
  merged(): Map<number, DeleteRange[]> {
    const result = new Map<number, DeleteRange[]>();
    for (const [client, ranges] of this.byClient ?? []) {
      const merged: DeleteRange[] = [];
      for (const r of [...ranges].sort((a, b) => a.clock - b.clock)) {
        const last = merged[merged.length - 1];
        if (last && r.clock <= last.clock + last.len) last.len = Math.max(last.len, r.clock + r.len - last.clock);
        else merged.push({ ...r });
      }
      result.set(client, merged);
    }
    return result;
  }
}
