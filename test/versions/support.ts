/** Helpers shared by the versions and activity suites: REST calls as a user, and a deck with slides and members. */
import { expect } from 'vitest';
import type * as Y from 'yjs';
import { insertSlide, toPlain } from '../../shared/presentation.js';
import { openClient, waitAcked, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { mintToken, type TestServer } from '../helpers/server.js';

export interface Reply {
  status: number;
  body: any;
}

export async function api(server: TestServer, method: string, path: string, user: string | null, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (user) headers.authorization = `Bearer ${mintToken(user, { name: user.toUpperCase() })}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Opens a provider as `user` (name = upper case), remembered in `clients` for cleanup. */
export function opener(clients: CollabClient[]) {
  return (server: TestServer, user: string, presentationId: string): CollabClient => {
    const client = openClient({ url: server.wsUrl, presentationId, token: mintToken(user, { name: user.toUpperCase() }) });
    clients.push(client);
    return client;
  };
}

/** Creates a deck owned by `owner` with members and slides (s1… with titles "title s1"…); returns the owner's editor. */
export async function createDeck(
  server: TestServer,
  open: ReturnType<typeof opener>,
  id: string,
  options: { owner?: string; slides?: string[]; members?: Record<string, string> } = {},
): Promise<CollabClient> {
  const owner = options.owner ?? 'olga';
  expect((await api(server, 'PUT', `/presentations/${id}`, owner)).status).toBe(201);
  for (const [user, role] of Object.entries(options.members ?? {})) {
    expect((await api(server, 'PUT', `/presentations/${id}/members/${user}`, owner, { role })).status).toBe(200);
  }
  const client = open(server, owner, id);
  await waitSynced(client);
  client.doc.transact(() =>
    (options.slides ?? ['s1', 's2', 's3']).forEach((s) => insertSlide(client.doc, { id: s, title: `title ${s}`, body: `body ${s}` })),
  );
  await waitAcked(client);
  return client;
}

/** Waits until the server lists `slideId` of `presentationId` as locked (whatever the socket messages look like). */
export async function waitForLock(server: TestServer, presentationId: string, slideId: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await api(server, 'GET', `/presentations/${presentationId}/locks`, 'olga')).body.locks?.some(
      (l: { slide_id: string }) => l.slide_id === slideId,
    )
  ) {
    if (Date.now() > deadline) throw new Error(`slide ${slideId} never locked`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The plain document (what GET …/versions/{id} returns), as a deep-comparable value. */
export const plain = (doc: Y.Doc) => JSON.parse(JSON.stringify(toPlain(doc)));
