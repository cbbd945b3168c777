/**
 * Foreign client ids: Yjs trusts a struct's id, so a writer that puts its structs under another client's id, at
 * that client's next clocks, makes the victim's own later structs look "already known" (they are dropped) and
 * anchors them on the forger's content. Even in an area the forger may write (a commenter's own comment), that
 * loses an honest user's edits. A client id belongs to the user who first used it in the document (by writing, or
 * by introducing it in awareness, which a provider does on connect); anyone else's structs under it are refused
 * whole. Judged by what a fresh instance loads from Postgres.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { findSlide, getComments, slideText } from '../../shared/presentation.js';
import { jsonOf, waitAcked, waitFor, waitSynced } from '../helpers/collab-client.js';
import { queryDb } from '../helpers/database.js';
import { createDeck } from '../helpers/deck.js';
import { forgeUpdate, idOf, newMap, value } from '../helpers/forge-update.js';
import { errorsOf, openRawWriter, recordLocal, referenceOf, reloaded } from '../helpers/raw-writer.js';
import { mintToken } from '../helpers/server.js';
import { useGuardServer } from '../helpers/guard-server.js';

describe('write guard: a client id belongs to one user', () => {
  const fx = useGuardServer('clientids');

  /** A well-formed comment by `author` in the thread, written under `client` from `clock` on. */
  const commentUnder = (client: number, clock: number, thread: Y.ID, author: string) =>
    forgeUpdate([
      { client, clock, parent: thread, content: newMap() },
      { client, clock: clock + 1, parent: Y.createID(client, clock), parentSub: 'author', content: value(author) },
      { client, clock: clock + 2, parent: Y.createID(client, clock), parentSub: 'id', content: value('sneaky') },
      { client, clock: clock + 3, parent: Y.createID(client, clock), parentSub: 'text', content: value('SQUATTED') },
    ]);

  for (const when of ['after the victim wrote', 'before the victim wrote anything (known from its awareness)'] as const) {
    it(`a commenter writing its own comment under an editor's client id is refused whole, ${when}`, async () => {
      const id = when.startsWith('after') ? 'squat-written' : 'squat-aware';
      const { owner, ownerLog } = await createDeck(fx.server, id, ['s1'], { eve: 'editor', cleo: 'commenter' }, fx.clients);
      owner.doc.transact(() => getComments(owner.doc).set('s1', new Y.Array<Y.Map<unknown>>()));
      await waitAcked(owner);
      const eve = fx.open(id, 'eve');
      const eveLog = recordLocal(eve);
      await waitSynced(eve);
      if (when.startsWith('after')) {
        slideText(findSlide(eve.doc, 's1')!, 'title').insert(0, 'first ');
        await waitAcked(eve);
      } else {
        eve.provider.setAwarenessField('presence', { slide_id: 's1', status: 'active' });
        await waitFor(() => owner.provider.awareness!.getStates().has(eve.doc.clientID), 5000, "eve's awareness");
      }

      const cleo = await openRawWriter(fx.server.wsUrl, id, mintToken('cleo'));
      const thread = idOf(getComments(owner.doc).get('s1')!);
      cleo.send(commentUnder(eve.doc.clientID, Y.getState(eve.doc.store, eve.doc.clientID), thread, 'cleo'));
      await cleo.answered(1);

      const title = slideText(findSlide(eve.doc, 's1')!, 'title');
      title.insert(title.length, ' typed by eve');
      await waitAcked(eve);
      const expected = referenceOf(ownerLog, eveLog);
      expect(jsonOf(await reloaded(fx.databaseUrl, id))).toBe(jsonOf(expected));
      expect(errorsOf(cleo.stateless, 'PERMISSION_DENIED')).toHaveLength(1);
    });
  }

  it('an update under more client ids than a provider ever uses is refused whole, and claims none of them', async () => {
    const { owner, ownerLog } = await createDeck(fx.server, 'many-ids', ['s1'], { cleo: 'commenter' }, fx.clients);
    owner.doc.transact(() => getComments(owner.doc).set('s1', new Y.Array<Y.Map<unknown>>()));
    await waitAcked(owner);
    const thread = idOf(getComments(owner.doc).get('s1')!);
    const cleo = await openRawWriter(fx.server.wsUrl, 'many-ids', mintToken('cleo'));
    const structs = Array.from({ length: 9 }, (_, i) => forgeUpdate([{ client: 7000 + i, clock: 0, parent: thread, content: value(`row ${i}`) }]));
    cleo.send(Y.mergeUpdates(structs));
    await cleo.answered(1);
    expect(errorsOf(cleo.stateless, 'PERMISSION_DENIED')).toHaveLength(1);
    const rows = await queryDb(fx.databaseUrl, 'SELECT client_id FROM document_clients WHERE name = $1 AND client_id >= 7000 AND client_id < 7009', [
      'presentation:many-ids',
    ]);
    expect(rows).toEqual([]);
    expect(jsonOf(await reloaded(fx.databaseUrl, 'many-ids'))).toBe(jsonOf(referenceOf(ownerLog)));
  });
});
