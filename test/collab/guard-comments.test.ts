/**
 * Issue #11, point 3: comment authorship and ownership. The author of a new comment is the token's user (a comment
 * claiming anyone else is refused); a commenter edits or deletes only its own comments and may resolve anyone's;
 * owners and editors may delete any; nobody rewrites an author or replaces a thread holding others' comments.
 * Judged by the document a fresh instance loads from Postgres.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { addComment, getComments } from '../../shared/presentation.js';
import { waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { queryDb } from '../helpers/database.js';
import { createDeck } from '../helpers/deck.js';
import { errorsOf, reloaded } from '../helpers/raw-writer.js';
import { useGuardServer } from '../helpers/guard-server.js';

type Plain = { id: string; author: string; text: string; resolved: boolean };

describe('write guard: comments', () => {
  const fx = useGuardServer('guardcomments');
  const comment = (c: CollabClient, commentId: string) =>
    getComments(c.doc)
      .get('s1')
      ?.toArray()
      .find((m) => m.get('id') === commentId);
  const thread = (doc: Y.Doc) =>
    ((getComments(doc).get('s1')?.toJSON() ?? []) as Plain[]).map(({ id, author, text, resolved }) => ({ id, author, text, resolved }));
  const denied = (c: CollabClient) => errorsOf(c.stateless, 'PERMISSION_DENIED').length;

  it('stamps authorship, keeps commenters to their own comments (resolving is open), lets editors moderate', async () => {
    await createDeck(fx.server, 'talk', ['s1'], { cleo: 'commenter', carl: 'commenter', eddie: 'editor' }, fx.clients);
    const cleo = fx.open('talk', 'cleo');
    const carl = fx.open('talk', 'carl');
    const eddie = fx.open('talk', 'eddie');
    await Promise.all([waitSynced(cleo), waitSynced(carl), waitSynced(eddie)]);

    addComment(carl.doc, 's1', { id: 'carl-1', author: 'carl', text: 'first' });
    await waitAcked(carl);
    addComment(carl.doc, 's1', { id: 'carl-2', author: 'carl', text: 'second' });
    await waitAcked(carl);
    await waitFor(() => comment(cleo, 'carl-2') !== undefined, 5000, 'cleo sees carl');

    // Attacks, one update each: a comment signed by someone else, and changes to carl's comments.
    const attacks: Array<() => void> = [
      () => addComment(cleo.doc, 's1', { id: 'forged', author: 'olga', text: 'FORGED-AUTHOR' }),
      () => comment(cleo, 'carl-1')!.set('text', 'REWRITTEN'),
      () => comment(cleo, 'carl-1')!.set('author', 'cleo'),
      () => getComments(cleo.doc).get('s1')!.delete(1, 1),
      () => getComments(cleo.doc).set('s1', new Y.Array()),
    ];
    for (const [i, attack] of attacks.entries()) {
      attack();
      await waitFor(() => denied(cleo) === i + 1, 5000, `PERMISSION_DENIED for attack ${i}`);
      await waitAcked(cleo);
    }
    // What cleo may do, from a fresh client (the attacked one diverged): comment as itself, edit its own, resolve carl's.
    const cleo2 = fx.open('talk', 'cleo');
    await waitSynced(cleo2);
    addComment(cleo2.doc, 's1', { id: 'cleo-1', author: 'cleo', text: 'mine' });
    await waitAcked(cleo2);
    comment(cleo2, 'cleo-1')!.set('text', 'mine, edited');
    comment(cleo2, 'carl-1')!.set('resolved', true);
    await waitAcked(cleo2);
    // An editor may delete anyone's comment, but not sign one as someone else.
    await waitFor(() => comment(eddie, 'cleo-1') !== undefined, 5000, 'eddie sees cleo');
    const index = getComments(eddie.doc)
      .get('s1')!
      .toArray()
      .findIndex((m) => m.get('id') === 'carl-2');
    getComments(eddie.doc).get('s1')!.delete(index, 1);
    await waitAcked(eddie);
    addComment(eddie.doc, 's1', { id: 'eddie-forged', author: 'carl', text: 'FORGED-BY-EDITOR' });
    await waitFor(() => denied(eddie) === 1, 5000, 'PERMISSION_DENIED for the editor too');
    expect(denied(cleo2)).toBe(0);

    const loaded = await reloaded(fx.databaseUrl, 'talk');
    expect(thread(loaded)).toEqual([
      { id: 'carl-1', author: 'carl', text: 'first', resolved: true },
      { id: 'cleo-1', author: 'cleo', text: 'mine, edited', resolved: false },
    ]);
    const rows = await queryDb<{ update: Buffer }>(fx.databaseUrl, 'SELECT update FROM document_updates WHERE name = $1', ['presentation:talk']);
    const bytes = Buffer.concat(rows.map((r) => r.update)).toString('latin1');
    for (const forged of ['FORGED-AUTHOR', 'REWRITTEN', 'FORGED-BY-EDITOR']) expect(bytes).not.toContain(forged);
  });
});
