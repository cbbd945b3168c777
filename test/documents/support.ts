/** Helpers of the documents tests: HTTP calls as a user or service, decks with members, JSON socket clients. */
import { expect } from 'vitest';
import type { DocumentJson } from '../../shared/document-json.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, type TestServer } from '../helpers/server.js';

export interface Caller {
  user: string;
  scope?: string;
}

export async function call(server: TestServer, method: string, path: string, who: Caller | string | null, body?: unknown) {
  const headers: Record<string, string> = {};
  const caller = typeof who === 'string' ? { user: who } : who;
  if (caller) headers.authorization = `Bearer ${mintToken(caller.user, { scope: caller.scope })}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Creates presentation `id` owned by `owner` with the given members. */
export async function createDeck(server: TestServer, id: string, owner: string, members: Record<string, string> = {}): Promise<void> {
  expect((await call(server, 'PUT', `/presentations/${id}`, owner)).status).toBe(201);
  for (const [user, role] of Object.entries(members)) {
    expect((await call(server, 'PUT', `/presentations/${id}/members/${user}`, owner, { role })).status).toBe(200);
  }
}

export async function getDocument(server: TestServer, id: string, who: Caller | string): Promise<DocumentJson> {
  const res = await call(server, 'GET', `/presentations/${id}/document`, who);
  expect(res.status).toBe(200);
  return res.body as DocumentJson;
}

export function collabSocketUrl(server: TestServer, presentationId: string, token: string): string {
  return `${server.url.replace(/^http/, 'ws')}/api/v1/realtime/collaboration/${presentationId}?token=${encodeURIComponent(token)}`;
}

/** A JSON collaboration client, connected (its `connected` message received). */
export async function openJsonCollab(
  server: TestServer,
  presentationId: string,
  user: string,
  options: { name?: string; scope?: string } = {},
): Promise<JsonWsClient> {
  const client = await openJsonWs(
    collabSocketUrl(server, presentationId, mintToken(user, { name: options.name ?? user.toUpperCase(), scope: options.scope })),
  );
  await client.waitForType('connected');
  return client;
}

/** Retries an async assertion until it passes (or `timeoutMs` passes: then its last failure). */
export async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
