/** Presentations for collaboration tests: created over REST by an owner, with members, and an owner's client. */
import { expect } from 'vitest';
import { insertSlide } from '../../shared/presentation.js';
import { openClient, waitAcked, waitSynced, type CollabClient } from './collab-client.js';
import { recordLocal } from './raw-writer.js';
import { mintToken, type TestServer } from './server.js';

export async function setRole(server: TestServer, presentationId: string, userId: string, role: string, owner = 'olga'): Promise<void> {
  const res = await fetch(`${server.url}/api/v1/presentations/${presentationId}/members/${userId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${mintToken(owner)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role }),
  });
  expect(res.status).toBe(200);
}

export interface Deck {
  owner: CollabClient;
  /** The owner's own updates (the slides it created), for reference documents. */
  ownerLog: Uint8Array[];
}

/** Creates presentation `id` owned by `olga` with `slides` (title `title {id}`) and the given members. */
export async function createDeck(
  server: TestServer,
  id: string,
  slides: string[],
  members: Record<string, string>,
  track: CollabClient[],
): Promise<Deck> {
  const res = await fetch(`${server.url}/api/v1/presentations/${id}`, { method: 'PUT', headers: { authorization: `Bearer ${mintToken('olga')}` } });
  expect(res.status).toBe(201);
  for (const [user, role] of Object.entries(members)) await setRole(server, id, user, role);
  const owner = openClient({ url: server.wsUrl, presentationId: id, token: mintToken('olga', { name: 'OLGA' }) });
  track.push(owner);
  const ownerLog = recordLocal(owner);
  await waitSynced(owner);
  owner.doc.transact(() => slides.forEach((s) => insertSlide(owner.doc, { id: s, title: `title ${s}` })));
  await waitAcked(owner);
  return { owner, ownerLog };
}
