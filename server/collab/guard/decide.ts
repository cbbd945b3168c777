/**
 * The write guard's decision on one update from one writer (design §5), taken before anything is applied, stored or
 * broadcast. Pure: it reads the document and changes nothing. The write path calls it and does what it says.
 *
 * - `refuse`: the update cannot be integrated completely against the document (it references clocks the document
 *   does not have: Yjs would keep it pending and integrate it later inside someone else's transaction, where no
 *   guard sees it), or it writes under a client id that belongs to another user (the victim's own later structs
 *   would look already known and be dropped) or that the writer may not claim (its cap of new ids), or the writer
 *   may not write at all. Nothing of it may be applied or stored. This holds for every writer: an honest client
 *   never sends such an update to an instance that has what it synced (the write path first catches the document
 *   up from Postgres, in case this instance lags behind).
 * - `apply`: the update to apply, store and broadcast as one. The original bytes when every struct and delete in it
 *   is allowed; otherwise a rewrite: each refused struct becomes a GC struct of the same id and length (its content
 *   never reaches a replica or a row; structs anchored on it integrate as GC too), refused deletes are dropped,
 *   and structs the document already has are left out. `retract` deletes the refused structs' ranges: a no-op
 *   everywhere but in the sender's own document, where it removes what it may not keep (refused deletes cannot be
 *   undone there: the sender should resync).
 */
import * as Y from 'yjs';
import type { ErrorCode } from '../../../shared/errors.js';
import { getComments, getSlides } from '../../../shared/presentation.js';
import type { DecodedUpdate } from './decoded-update.js';
import { DeleteRanges, encodeRewrite, type Rewrite } from './encode.js';
import { integrationOf } from './integration.js';
import { isPlainEdit } from './plain-edit.js';
import { Places } from './places.js';
import { Rules, type Denial } from './rules.js';
import { isRestricted, type Writer } from './writer.js';

export type RefusalCode = Extract<ErrorCode, 'PERMISSION_DENIED' | 'LOCKED' | 'CONFLICT'>;

export type GuardDecision =
  | { kind: 'refuse'; code: RefusalCode; reason: string }
  | {
      kind: 'apply';
      update: Uint8Array;
      rewritten: boolean;
      denials: Denial[];
      /** For the sender only: deletes of its refused structs (a no-op anywhere else), or null. */
      retract: Uint8Array | null;
    };

export function decideUpdate(doc: Y.Doc, update: DecodedUpdate, writer: Writer): GuardDecision {
  if (update.isEmpty) return { kind: 'apply', update: update.bytes, rewritten: false, denials: [], retract: null };
  if (writer.readOnly) return { kind: 'refuse', code: 'PERMISSION_DENIED', reason: 'this role may not change the document' };
  // Typed roots first: a root a peer created is a generic type until accessed, and places compare by identity.
  const roots = { slides: getSlides(doc) as unknown as Y.AbstractType<unknown>, comments: getComments(doc) as unknown as Y.AbstractType<unknown> };
  const integration = integrationOf(doc, update);
  if (!integration.ok) {
    return { kind: 'refuse', code: refusalCode(writer), reason: `it depends on what this document does not have (${integration.missing})` };
  }
  for (const { struct } of integration.order) {
    const client = struct.id.client;
    if (writer.overCapClients.has(client)) {
      const reason = `it writes under client id ${client}, a new one this user may not claim now (too many new client ids in this document recently)`;
      return { kind: 'refuse', code: 'PERMISSION_DENIED', reason };
    }
    if (writer.foreignClients.has(client)) {
      return { kind: 'refuse', code: 'PERMISSION_DENIED', reason: `it writes under client id ${client}, which is not this user's` };
    }
  }

  if (!integration.trimmed && isPlainEdit(doc, update, integration.order, writer, roots)) {
    return { kind: 'apply', update: update.bytes, rewritten: false, denials: [], retract: null };
  }

  const places = new Places(doc, update);
  for (const { struct, known } of integration.order) {
    if (struct instanceof Y.Item) places.incoming(struct, known);
  }
  const rules = new Rules(doc, update, places, writer);

  let changed = integration.trimmed;
  const denials: Denial[] = [];
  const structs: Rewrite['structs'] = [];
  const deletes = new DeleteRanges();
  const refused = new DeleteRanges();
  for (const entry of integration.order) {
    const { struct, known } = entry;
    const verdict = struct instanceof Y.Item ? rules.insert(struct, places.incoming(struct)) : 'allow';
    const gc = verdict !== 'allow';
    if (gc) {
      changed = true;
      if (verdict !== 'void') denials.push(verdict);
      refused.add(struct.id.client, struct.id.clock + known, struct.length - known);
    }
    structs.push({ entry, gc });
  }

  for (const [client, ranges] of update.deletes) {
    const state = Y.getState(doc.store, client);
    const existing = doc.store.clients.get(client) as (Y.Item | Y.GC)[] | undefined;
    for (const { clock, len } of ranges) {
      const end = clock + len;
      if (existing && clock < state) {
        for (let i = Y.findIndexSS(existing, clock); i < existing.length; i++) {
          const struct = existing[i] as Y.Item | Y.GC;
          if (struct.id.clock >= end) break;
          if (!(struct instanceof Y.Item) || struct.deleted) continue; // already deleted: nothing to do
          const verdict = rules.remove(struct);
          const from = Math.max(struct.id.clock, clock);
          if (verdict === 'allow') deletes.add(client, from, Math.min(struct.id.clock + struct.length, end) - from);
          else {
            changed = true;
            if (verdict !== 'void') denials.push(verdict);
          }
        }
      }
      // Clocks of the update's own structs (inserted and deleted in one go).
      if (end > state) deletes.add(client, Math.max(clock, state), end - Math.max(clock, state));
    }
  }

  if (!changed) return { kind: 'apply', update: update.bytes, rewritten: false, denials, retract: null };
  return {
    kind: 'apply',
    update: encodeRewrite({ structs, deletes: deletes.merged() }),
    rewritten: true,
    denials,
    retract: refused.size > 0 ? encodeRewrite({ structs: [], deletes: refused.merged() }) : null,
  };
}

function refusalCode(writer: Writer): RefusalCode {
  if (writer.readOnly || writer.commentOnly) return 'PERMISSION_DENIED';
  return isRestricted(writer) ? 'LOCKED' : 'CONFLICT';
}
