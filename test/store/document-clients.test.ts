/**
 * The claim cap in the store (claim_document_clients, migration 008): a user claims at most `max` new client ids in a
 * document per window, however many instances claim at once (two pools on one database here), and a claim older than
 * the window no longer counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../server/store/db.js';
import { DocumentClientStore } from '../../server/store/document-clients.js';
import { migrate } from '../../server/store/migrate.js';
import { createPgDb } from '../../server/store/pg.js';
import { createTestDatabase } from '../helpers/database.js';

const HOUR = 3_600_000;

describe('document client ids: the claim cap', () => {
  let a: Db;
  let b: Db;
  beforeAll(async () => {
    const url = await createTestDatabase('claims');
    a = createPgDb({ connectionString: url, max: 8 });
    b = createPgDb({ connectionString: url, max: 8 });
    await migrate(a);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const rowsOf = async (name: string, user: string) =>
    (await a.query<{ n: number }>('SELECT count(*)::int AS n FROM document_clients WHERE name = $1 AND user_id = $2', [name, user])).rows[0]!.n;

  it('claims racing on two instances never pass the cap together', async () => {
    const stores = [new DocumentClientStore(a), new DocumentClientStore(b)];
    const results = await Promise.all(
      Array.from({ length: 48 }, (_, i) => stores[i % 2]!.claim('race', [1000 + i], 'mallory', { max: 5, windowMs: HOUR })),
    );
    const won = results.filter((r) => r.owners.size === 1);
    expect(won).toHaveLength(5);
    expect(await rowsOf('race', 'mallory')).toBe(5);
    // Every claim from the fifth on reports the cap, for about a window.
    const capped = results.filter((r) => r.cappedForMs !== null);
    expect(capped.length).toBeGreaterThanOrEqual(44);
    for (const r of capped) expect(r.cappedForMs).toBeGreaterThan(HOUR - 60_000);
  });

  it('counts per user and document, claims in order up to the room left, and forgets claims older than the window', async () => {
    const store = new DocumentClientStore(a);
    const limit = { max: 3, windowMs: HOUR };
    const first = await store.claim('window', [1, 2], 'ursula', limit);
    expect([...first.owners]).toEqual([
      [1, 'ursula'],
      [2, 'ursula'],
    ]);
    expect(first.cappedForMs).toBeNull();
    // Another user's claims and another document's do not count.
    await store.claim('window', [10, 11, 12], 'victor', limit);
    await store.claim('elsewhere', [1, 2, 3], 'ursula', limit);
    const second = await store.claim('window', [3, 4, 5], 'ursula', limit);
    expect([...second.owners]).toEqual([[3, 'ursula']]);
    expect(second.cappedForMs).toBeGreaterThan(HOUR - 60_000);
    // Without a limit: a look-up, nothing claimed.
    expect(await store.claim('window', [1, 4, 10], 'ursula', null)).toEqual({
      owners: new Map([
        [1, 'ursula'],
        [10, 'victor'],
      ]),
      cappedForMs: null,
    });

    // Two of the three claims leave the window: two new ones fit again.
    await a.query("UPDATE document_clients SET claimed_at = now() - interval '2 hours' WHERE name = 'window' AND client_id IN (1, 2)");
    const later = await store.claim('window', [4, 5, 6], 'ursula', limit);
    expect([...later.owners.keys()]).toEqual([4, 5]);
    expect(later.cappedForMs).toBeGreaterThan(HOUR - 60_000);
    expect(await rowsOf('window', 'ursula')).toBe(5);
  });
});
