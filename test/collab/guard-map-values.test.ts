/**
 * Map entries whose value the guard must read as clients do. Y.Map shows the LAST value of an entry's content, and
 * a hand-made entry may carry several values (ContentAny ['cleo', 'carl']) or another content kind (ContentJSON).
 * Found by an attack on the #11 guard: a commenter signed a comment as someone else, and an editor added a second
 * slide with an existing id (which moved a lock onto the decoy). Both must be refused, and nothing stored.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { addComment, getComments, getSlides } from '../../shared/presentation.js';
import { openClient, waitAcked, waitSynced } from '../helpers/collab-client.js';
import { createDeck } from '../helpers/deck.js';
import { forgeUpdate, id, newMap, value } from '../helpers/forge-update.js';
import { errorsOf, openRawWriter, reloaded } from '../helpers/raw-writer.js';
import { mintToken } from '../helpers/server.js';
import { useGuardServer } from '../helpers/guard-server.js';

const ATTACKER = 0x7a11;

describe('write guard: map values are judged as replicas read them', () => {
  const fx = useGuardServer('guardmapvalues');

  it("refuses a comment whose author entry carries several values, the last one someone else's", async () => {
    const { owner } = await createDeck(fx.server, 'authors', ['s1'], { cleo: 'commenter', carl: 'commenter' }, fx.clients);
    addComment(owner.doc, 's1', { id: 'o-1', author: 'olga', text: 'first' });
    await waitAcked(owner);
    const last = getComments(owner.doc).get('s1')!._start!.id;
    const cleo = await openRawWriter(fx.server.wsUrl, 'authors', mintToken('cleo'));
    const comment = id(ATTACKER, 0);
    cleo.send(
      forgeUpdate([
        { client: ATTACKER, clock: 0, origin: last, content: newMap() },
        { client: ATTACKER, clock: 1, parent: comment, parentSub: 'author', content: new Y.ContentAny(['cleo', 'carl']) },
        { client: ATTACKER, clock: 3, parent: comment, parentSub: 'text', content: value('FORGED by cleo') },
        { client: ATTACKER, clock: 4, parent: comment, parentSub: 'id', content: value('forged-1') },
      ]),
    );
    await cleo.answered(1);
    expect(errorsOf(cleo.stateless, 'PERMISSION_DENIED')).toHaveLength(1);

    const loaded = await reloaded(fx.databaseUrl, 'authors');
    expect((getComments(loaded).get('s1')!.toJSON() as { id: string }[]).map((c) => c.id)).toEqual(['o-1']);
    expect(await fx.storedBytes('authors')).not.toContain('FORGED');
  });

  it('refuses a new slide whose id entry carries several values or JSON content naming an existing id', async () => {
    const { owner } = await createDeck(fx.server, 'decoys', ['s1', 's2'], { ivan: 'editor' }, fx.clients);
    const first = getSlides(owner.doc)._start!.id;
    const ivan = await openRawWriter(fx.server.wsUrl, 'decoys', mintToken('ivan'));
    const forgeDecoy = (client: number, idContent: ConstructorParameters<typeof Y.Item>[7]) =>
      forgeUpdate([
        { client, clock: 0, rightOrigin: first, parent: 'slides', content: newMap() },
        { client, clock: 1, parent: id(client, 0), parentSub: 'id', content: idContent },
      ]);
    ivan.send(forgeDecoy(ATTACKER, new Y.ContentAny(['decoy-unique', 's1'])));
    ivan.send(forgeDecoy(ATTACKER + 1, new Y.ContentJSON(['s1'])));
    await ivan.answered(2);
    expect(errorsOf(ivan.stateless, 'CONFLICT')).toHaveLength(2);

    const fresh = openClient({ url: fx.server.wsUrl, presentationId: 'decoys', token: mintToken('olga') });
    fx.clients.push(fresh);
    await waitSynced(fresh);
    expect(
      getSlides(fresh.doc)
        .toArray()
        .map((s) => s.get('id')),
    ).toEqual(['s1', 's2']);
    expect(
      getSlides(await reloaded(fx.databaseUrl, 'decoys'))
        .toArray()
        .map((s) => s.get('id')),
    ).toEqual(['s1', 's2']);
  });
});
