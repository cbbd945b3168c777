/** Setting Deckhand up through its own REST API: presentations with an owner and editors (distinct users). */
import { expectOk, httpJson } from './http.js';
import { pool } from './schedule.js';
import { mintToken } from './tokens.js';

/** Creates `presentation:{id}` owned by `owner` with every other user as an editor. */
export async function presentationWithEditors(base: string, id: string, owner: string, editors: string[]): Promise<void> {
  const auth = { authorization: `Bearer ${mintToken(owner)}` };
  await expectOk(httpJson('PUT', `${base}/api/v1/presentations/${id}`, { title: id }, auth), `create ${id}`);
  await pool(editors, 16, (user) =>
    expectOk(httpJson('PUT', `${base}/api/v1/presentations/${id}/members/${user}`, { role: 'editor' }, auth), `member ${user}`),
  );
}

export async function presentationsWithEditors(base: string, decks: { id: string; owner: string; editors: string[] }[]): Promise<void> {
  await pool(decks, 4, (d) => presentationWithEditors(base, d.id, d.owner, d.editors));
}
