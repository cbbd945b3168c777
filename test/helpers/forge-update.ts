/**
 * Hand-made Yjs (v1) updates, as an attacker writes them: structs under any client id and clock, anchored on any
 * id (origin / right origin) or placed under any parent, and delete ranges over any clocks, whether the document
 * has them or not. Built with Yjs' own struct writers, so the bytes are exactly what a modified client would send.
 */
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

type Content = ConstructorParameters<typeof Y.Item>[7];

export interface ForgedStruct {
  client: number;
  clock: number;
  content: Content;
  /** The id this struct is inserted after (left neighbour at creation). */
  origin?: Y.ID | null;
  /** The id this struct is inserted before. */
  rightOrigin?: Y.ID | null;
  /** Root type name, or the id of the struct holding the parent type (only used when there is no origin). */
  parent?: string | Y.ID;
  /** Map key (only used when there is no origin). */
  parentSub?: string;
}

export interface ForgedDelete {
  client: number;
  clock: number;
  len: number;
}

export const text = (s: string) => new Y.ContentString(s);
export const value = (v: unknown) => new Y.ContentAny([v]);
export const newMap = () => new Y.ContentType(new Y.Map());
export const newArray = () => new Y.ContentType(new Y.Array());
export const newText = () => new Y.ContentType(new Y.Text());
export const id = (client: number, clock: number) => Y.createID(client, clock);

export function forgeUpdate(structs: ForgedStruct[], deletes: ForgedDelete[] = []): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  const byClient = new Map<number, ForgedStruct[]>();
  for (const s of structs) byClient.set(s.client, [...(byClient.get(s.client) ?? []), s]);
  encoding.writeVarUint(encoder.restEncoder, byClient.size);
  for (const [client, list] of byClient) {
    list.sort((a, b) => a.clock - b.clock);
    encoding.writeVarUint(encoder.restEncoder, list.length);
    encoder.writeClient(client);
    encoding.writeVarUint(encoder.restEncoder, list[0]!.clock);
    for (const s of list) {
      const item = new Y.Item(
        Y.createID(client, s.clock),
        null,
        s.origin ?? null,
        null,
        s.rightOrigin ?? null,
        (s.parent ?? null) as never,
        s.parentSub ?? null,
        s.content,
      );
      item.write(encoder, 0);
    }
  }
  const ds = new Map<number, ForgedDelete[]>();
  for (const d of deletes) ds.set(d.client, [...(ds.get(d.client) ?? []), d]);
  encoding.writeVarUint(encoder.restEncoder, ds.size);
  for (const [client, ranges] of ds) {
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

/** The id of the struct holding a type (a slide's Y.Map, a comment thread…), for `parent` or deletes. */
export function idOf(type: { _item: Y.Item | null }): Y.ID {
  const item = type._item;
  if (!item) throw new Error('a root type has no struct id');
  return item.id;
}
