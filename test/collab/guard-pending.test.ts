/**
 * Issue #11, point 1 and the lost rollback: a restricted writer (a commenter, or an editor while someone else holds a
 * lock) sends what the server's document cannot integrate completely — structs anchored on a victim's NEXT clock and
 * a delete range over the victim's future clocks. Yjs would keep them pending and integrate them inside the victim's
 * own later transaction. The update must be refused whole before it is stored; after the victim types, the document
 * a fresh instance loads from Postgres is exactly what the honest users wrote. And a guarded edit never reaches a row.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { CLOSE_CODES } from '../../shared/errors.js';
import { findSlide, slideText } from '../../shared/presentation.js';
import { jsonOf, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createDeck } from '../helpers/deck.js';
import { forgeUpdate, id, idOf, text } from '../helpers/forge-update.js';
import { lockAndWait } from '../helpers/lock-table.js';
import { errorsOf, openRawWriter, recordLocal, referenceOf, reloaded } from '../helpers/raw-writer.js';
import { mintToken } from '../helpers/server.js';
import { useGuardServer } from '../helpers/guard-server.js';

const ATTACKER_CLIENT = 0x5eed;

describe('write guard: updates that cannot be integrated are refused whole, before they are stored', () => {
  const fx = useGuardServer('guardpending');

  /** The attack of the issue: forged text anchored on the victim's next clock, and a delete over its future clocks. */
  function pendingAttack(victim: CollabClient): Uint8Array {
    const next = Y.getState(victim.doc.store, victim.doc.clientID);
    return forgeUpdate(
      [{ client: ATTACKER_CLIENT, clock: 0, origin: id(victim.doc.clientID, next), content: text('FORGED') }],
      [{ client: victim.doc.clientID, clock: next + 8, len: 1000 }],
    );
  }

  async function victimTypes(victim: CollabClient, slideId: string) {
    const title = slideText(findSlide(victim.doc, slideId)!, 'title');
    title.insert(title.length, ' abcdefghijklmnop');
    await waitAcked(victim);
    for (const ch of 'qrstuvwxyz') title.insert(title.length, ch);
    await waitAcked(victim);
  }

  it("a commenter's struct anchored on an editor's next clock and a delete over its future clocks are refused with PERMISSION_DENIED", async () => {
    const { ownerLog } = await createDeck(fx.server, 'pending', ['s1'], { eve: 'editor', cleo: 'commenter' }, fx.clients);
    const eve = fx.open('pending', 'eve');
    const eveLog = recordLocal(eve);
    await waitSynced(eve);
    const cleo = await openRawWriter(fx.server.wsUrl, 'pending', mintToken('cleo'));
    cleo.send(pendingAttack(eve));
    await cleo.answered(1);
    await victimTypes(eve, 's1');

    const expected = referenceOf(ownerLog, eveLog);
    expect(slideText(findSlide(expected, 's1')!, 'title').toString()).toBe('title s1 abcdefghijklmnopqrstuvwxyz');
    expect(jsonOf(eve.doc)).toBe(jsonOf(expected));
    expect(jsonOf(await reloaded(fx.databaseUrl, 'pending'))).toBe(jsonOf(expected));
    expect(await fx.storedBytes('pending')).not.toContain('FORGED');
    expect(errorsOf(cleo.stateless, 'PERMISSION_DENIED')).toHaveLength(1);
  });

  it('an editor attacking the holder of a lock the same way is refused with LOCKED', async () => {
    const { ownerLog } = await createDeck(fx.server, 'pending-lock', ['s1', 's2'], { hana: 'editor', ivan: 'editor' }, fx.clients);
    const hana = fx.open('pending-lock', 'hana');
    const hanaLog = recordLocal(hana);
    await waitSynced(hana);
    await lockAndWait(hana, 's1', 'hana');
    const ivan = await openRawWriter(fx.server.wsUrl, 'pending-lock', mintToken('ivan'));
    ivan.send(pendingAttack(hana));
    await ivan.answered(1);
    await victimTypes(hana, 's1');

    const expected = referenceOf(ownerLog, hanaLog);
    expect(jsonOf(await reloaded(fx.databaseUrl, 'pending-lock'))).toBe(jsonOf(expected));
    expect(await fx.storedBytes('pending-lock')).not.toContain('FORGED');
    expect(errorsOf(ivan.stateless, 'LOCKED')).toHaveLength(1);
  });

  it('structs past the sender’s own next clock, or deletes over clocks the document does not have, are refused whole (nothing of them is kept)', async () => {
    const { owner, ownerLog } = await createDeck(fx.server, 'gaps', ['s1'], { cleo: 'commenter' }, fx.clients);
    const comments = owner.doc.getMap('comments');
    owner.doc.transact(() => comments.set('s1', new Y.Array()));
    await waitAcked(owner);
    const thread = idOf(comments.get('s1') as Y.Array<unknown>);
    // A comment-area write (allowed on its own) whose clocks start at 5 instead of 0: a gap in its own sequence.
    const first = await openRawWriter(fx.server.wsUrl, 'gaps', mintToken('cleo'));
    first.send(forgeUpdate([{ client: ATTACKER_CLIENT, clock: 5, parent: thread, content: text('GAP-IN-OWN-CLOCKS') }]));
    // An allowed write together with a delete over the owner's clocks that do not exist yet.
    const second = await openRawWriter(fx.server.wsUrl, 'gaps', mintToken('cleo'));
    const ownerNext = Y.getState(owner.doc.store, owner.doc.clientID);
    second.send(
      forgeUpdate(
        [{ client: ATTACKER_CLIENT + 1, clock: 0, parent: thread, content: text('WITH-FUTURE-DELETE') }],
        [{ client: owner.doc.clientID, clock: ownerNext, len: 50 }],
      ),
    );
    // Each is refused whole: an error, no acknowledgement, and the socket closed so that the sender resyncs.
    for (const cleo of [first, second]) {
      await cleo.answered(1);
      expect(await cleo.raw.closed).toBe(CLOSE_CODES.UPDATE_REFUSED.code);
      expect(errorsOf(cleo.stateless, 'PERMISSION_DENIED')).toHaveLength(1);
      expect(cleo.acks).toEqual([]);
    }
    slideText(findSlide(owner.doc, 's1')!, 'title').insert(0, 'still mine: ');
    await waitAcked(owner);

    const stored = await fx.storedBytes('gaps');
    expect(stored).not.toContain('GAP-IN-OWN-CLOCKS');
    expect(stored).not.toContain('WITH-FUTURE-DELETE');
    expect(jsonOf(await reloaded(fx.databaseUrl, 'gaps'))).toBe(jsonOf(referenceOf(ownerLog)));
  });

  it('a guarded edit never reaches a row: what is stored already has the forbidden part removed (no separate rollback to lose)', async () => {
    const { owner, ownerLog } = await createDeck(fx.server, 'no-rollback-row', ['s1'], { cleo: 'commenter' }, fx.clients);
    const cleo = fx.open('no-rollback-row', 'cleo');
    await waitSynced(cleo);
    slideText(findSlide(cleo.doc, 's1')!, 'title').insert(0, 'INTRUDER ');
    await waitFor(() => errorsOf(cleo.stateless, 'PERMISSION_DENIED').length > 0, 5000, 'PERMISSION_DENIED');
    await waitAcked(cleo);
    expect(await fx.storedBytes('no-rollback-row')).not.toContain('INTRUDER');
    expect(jsonOf(await reloaded(fx.databaseUrl, 'no-rollback-row'))).toBe(jsonOf(referenceOf(ownerLog)));
    expect(slideText(findSlide(owner.doc, 's1')!, 'title').toString()).toBe('title s1');
  });
});
