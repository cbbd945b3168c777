/** Shared pieces of the SDK tests: clients with fast reconnects, waiting on real client state, service calls. */
import WebSocket from 'ws';
import { createDeckhandClient, type ClientOptions, type DeckhandClient } from '../../client/index.js';
import { mintToken } from '../helpers/server.js';

export { waitFor } from '../helpers/collab-client.js';

export const FAST_RECONNECT = { minDelayMs: 50, maxDelayMs: 400 };

const clients: DeckhandClient[] = [];

/** An SDK client for `user` (its display name capitalized); destroyed by destroyClients(). */
export function sdkClient(url: string, user: string, options: Partial<ClientOptions> = {}): DeckhandClient {
  const client = createDeckhandClient({
    url,
    token: mintToken(user, { name: user[0]!.toUpperCase() + user.slice(1) }),
    reconnect: FAST_RECONNECT,
    // Node 20 has no global WebSocket (the SDK uses it on Node 22+ and in browsers).
    ...(globalThis.WebSocket ? {} : { WebSocket: WebSocket as never }),
    ...options,
  });
  clients.push(client);
  return client;
}

export function destroyClients(): void {
  for (const client of clients.splice(0)) client.destroy();
}

/** A REST call as `user` (or with a service token for `scope`). */
export async function api(url: string, method: string, path: string, body: unknown, token: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export const WORKER_TOKEN = () => mintToken('worker', { scope: 'jobs:write notifications:write' });

export async function createJob(url: string, jobId: string, userId: string): Promise<void> {
  const res = await api(url, 'POST', '/api/v1/jobs', { job_id: jobId, user_id: userId, kind: 'generation' }, WORKER_TOKEN());
  if (res.status !== 201) throw new Error(`job not created: ${res.status} ${JSON.stringify(res.body)}`);
}

export async function reportProgress(url: string, jobId: string, body: Record<string, unknown>): Promise<void> {
  const res = await api(url, 'POST', `/api/v1/jobs/${jobId}/progress`, body, WORKER_TOKEN());
  if (res.status !== 200) throw new Error(`progress refused: ${res.status} ${JSON.stringify(res.body)}`);
}
