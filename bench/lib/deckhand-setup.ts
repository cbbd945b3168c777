/**
 * Deckhand's presentations and members for a scenario: owner + editors (distinct users), written straight into the
 * target's database (two statements, not timed) rather than through a thousand REST calls, which would take longer
 * than the measurement. The rows are exactly what `PUT /presentations/{id}` and `PUT …/members/{user}` write.
 */
import pg from 'pg';
import type { TargetInfo } from './protocol.js';

export interface Deck {
  id: string;
  owner: string;
  editors: string[];
}

export async function presentationsWithEditors(target: TargetInfo, decks: Deck[]): Promise<void> {
  if (target.kind !== 'deckhand') return;
  const client = new pg.Client({ connectionString: target.dbUrl });
  await client.connect();
  try {
    await client.query(
      'INSERT INTO presentations (id, title, created_by) SELECT id, id, owner FROM unnest($1::text[], $2::text[]) AS t(id, owner) ON CONFLICT (id) DO NOTHING',
      [decks.map((d) => d.id), decks.map((d) => d.owner)],
    );
    const members = decks.flatMap((d) => [[d.id, d.owner, 'owner'], ...d.editors.map((e) => [d.id, e, 'editor'])]);
    await client.query(
      'INSERT INTO presentation_members (presentation_id, user_id, role) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING',
      [members.map((m) => m[0]), members.map((m) => m[1]), members.map((m) => m[2])],
    );
  } finally {
    await client.end();
  }
}
