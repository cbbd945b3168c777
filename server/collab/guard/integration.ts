/**
 * Can an update be integrated completely against a document, now? Yjs keeps what it cannot integrate as "pending"
 * and integrates it later, inside whichever transaction supplies the missing pieces: the guard could then never see
 * it. So the guard asks first, the way Yjs' own integration does:
 *
 * - a client's new structs must continue exactly where the document's (or the update's own) clocks for that client
 *   end: no gap, no Skip over clocks nobody has;
 * - every id a struct is anchored on (origin, right origin) or placed under (parent) must be in the document, or in
 *   a struct of the update that can itself be integrated before it;
 * - every delete range must cover clocks the document or the update has.
 *
 * Structs the document already has are skipped (Yjs ignores them). The answer is the order in which the new structs
 * would integrate (each after everything it depends on), or what is missing. Cost: linear in the update (a worklist
 * over its clients), independent of the document size.
 */
import * as Y from 'yjs';
import type { DecodedUpdate, Struct } from './decoded-update.js';

export interface NewStruct {
  struct: Struct;
  /** Clocks at the start of the struct that the document already has (Yjs integrates only the rest). */
  known: number;
}

export type Integration = { ok: true; order: NewStruct[]; trimmed: boolean } | { ok: false; missing: string };

export function integrationOf(doc: Y.Doc, update: DecodedUpdate): Integration {
  if (update.clients.size <= 1) return singleClient(doc, update);
  const store = doc.store;
  /** client → end of the clocks available so far (the document's, extended by integrable structs of the update) */
  const ready = new Map<number, number>();
  /** client → index of its next struct to examine */
  const next = new Map<number, number>();
  const waiting = new Map<number, number[]>();
  const order: NewStruct[] = [];
  let trimmed = false;

  const available = (id: Y.ID) => id.clock < (ready.get(id.client) ?? Y.getState(store, id.client));

  for (const [client, list] of update.clients) {
    const known = Y.getState(store, client);
    let i = 0;
    while (i < list.length && (list[i] as Struct).id.clock + (list[i] as Struct).length <= known) i++;
    if (i > 0) trimmed = true;
    next.set(client, i);
    ready.set(client, known);
  }

  const queue = [...update.clients.keys()];
  while (queue.length > 0) {
    const client = queue.pop() as number;
    const list = update.clients.get(client) as Struct[];
    let i = next.get(client) as number;
    let end = ready.get(client) as number;
    const from = i;
    while (i < list.length) {
      const struct = list[i] as Struct;
      if (struct.id.clock > end) return { ok: false, missing: `clocks ${end}..${struct.id.clock - 1} of client ${client}` };
      if (struct instanceof Y.Skip)
        return { ok: false, missing: `clocks ${struct.id.clock}..${struct.id.clock + struct.length - 1} of client ${client} (skipped)` };
      if (struct instanceof Y.Item) {
        const dependency = missingDependency(struct, available);
        if (dependency) {
          // Its own earlier clocks are always before it: a reference to a later one can never be satisfied.
          if (dependency.client === client)
            return { ok: false, missing: `id ${client}:${dependency.clock} (a later clock of the struct's own client)` };
          const list = waiting.get(dependency.client);
          if (list) list.push(client);
          else waiting.set(dependency.client, [client]);
          break;
        }
      }
      const known = Math.max(0, end - struct.id.clock);
      if (known > 0) trimmed = true;
      order.push({ struct, known });
      end = struct.id.clock + struct.length;
      ready.set(client, end);
      i++;
    }
    next.set(client, i);
    if (i > from) {
      const woken = waiting.get(client);
      if (woken) {
        waiting.delete(client);
        queue.push(...woken);
      }
    }
  }

  for (const [client, list] of update.clients) {
    const i = next.get(client) as number;
    if (i < list.length) {
      const blocked = list[i] as Y.Item;
      const dependency = missingDependency(blocked, available) as Y.ID;
      return { ok: false, missing: `id ${dependency.client}:${dependency.clock} (needed by ${client}:${blocked.id.clock})` };
    }
  }
  for (const [client, ranges] of update.deletes) {
    const last = ranges[ranges.length - 1];
    const limit = ready.get(client) ?? Y.getState(store, client);
    if (last && last.clock + last.len > limit)
      return { ok: false, missing: `deleted clocks ${limit}..${last.clock + last.len - 1} of client ${client}` };
  }
  return { ok: true, order, trimmed };
}

/**
 * The common case without the worklist: every struct is of one client, so a struct can only depend on the document
 * or on that client's earlier structs, and one pass in clock order decides.
 */
function singleClient(doc: Y.Doc, update: DecodedUpdate): Integration {
  const store = doc.store;
  const order: NewStruct[] = [];
  let trimmed = false;
  let end = 0;
  let client = 0;
  for (const [c, list] of update.clients) {
    client = c;
    end = Y.getState(store, c);
    for (const struct of list) {
      if (struct.id.clock + struct.length <= end && order.length === 0) {
        trimmed = true; // the document has it already
        continue;
      }
      if (struct.id.clock > end) return { ok: false, missing: `clocks ${end}..${struct.id.clock - 1} of client ${c}` };
      if (struct instanceof Y.Skip)
        return { ok: false, missing: `clocks ${struct.id.clock}..${struct.id.clock + struct.length - 1} of client ${c} (skipped)` };
      if (struct instanceof Y.Item) {
        const dependency =
          ownOrStored(struct.origin, c, end, store) ?? ownOrStored(struct.rightOrigin, c, end, store) ?? ownOrStored(struct.parent, c, end, store);
        if (dependency) return { ok: false, missing: `id ${dependency.client}:${dependency.clock} (needed by ${c}:${struct.id.clock})` };
      }
      const known = Math.max(0, end - struct.id.clock);
      if (known > 0) trimmed = true;
      order.push({ struct, known });
      end = struct.id.clock + struct.length;
    }
  }
  for (const [c, ranges] of update.deletes) {
    const last = ranges[ranges.length - 1] as { clock: number; len: number };
    const limit = c === client && update.clients.size > 0 ? end : Y.getState(store, c);
    if (last.clock + last.len > limit) return { ok: false, missing: `deleted clocks ${limit}..${last.clock + last.len - 1} of client ${c}` };
  }
  return { ok: true, order, trimmed };
}

/** The id when it is neither in the document nor among the client's structs before `end`; else null. */
function ownOrStored(id: unknown, client: number, end: number, store: Y.Doc['store']): Y.ID | null {
  if (!(id instanceof Y.ID)) return null;
  const limit = id.client === client ? end : Y.getState(store, id.client);
  return id.clock < limit ? null : id;
}

/** The first id the struct needs that is not available, or null. */
function missingDependency(item: Y.Item, available: (id: Y.ID) => boolean): Y.ID | null {
  if (item.origin && !available(item.origin)) return item.origin;
  if (item.rightOrigin && !available(item.rightOrigin)) return item.rightOrigin;
  const parent = item.parent;
  if (parent instanceof Y.ID && !available(parent)) return parent;
  return null;
}
