/** Shared by the chat and status suites: a presentation with members of every role, and live followers of channels. */
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken } from '../helpers/server.js';
import { openSse, type SseClient } from '../helpers/sse.js';
import { call, notificationsSse, notificationsWs } from '../realtime/support.js';

export type Role = 'owner' | 'editor' | 'commenter' | 'viewer';

/** Creates presentation `id` owned by `owner`, with `members` in their roles. */
export async function createDeck(
  base: string,
  id: string,
  owner: string,
  members: Record<string, Exclude<Role, 'owner'> | 'owner'> = {},
): Promise<void> {
  const created = await call(base, 'PUT', `/api/v1/presentations/${id}`, { token: mintToken(owner) });
  if (created.status !== 201) throw new Error(`create ${id}: ${created.status} ${JSON.stringify(created.body)}`);
  for (const [user, role] of Object.entries(members)) {
    const set = await call(base, 'PUT', `/api/v1/presentations/${id}/members/${user}`, { token: mintToken(owner), body: { role } });
    if (set.status !== 200) throw new Error(`member ${user}: ${set.status} ${JSON.stringify(set.body)}`);
  }
}

/** A notifications socket of `user`, connected (its `connected` message received). */
export async function socketOf(base: string, user: string, name = user): Promise<JsonWsClient> {
  const client = await openJsonWs(notificationsWs(base, mintToken(user, { name })));
  await client.waitForType('connected');
  return client;
}

/** Subscribes `client` to `channel` and waits for the answer (`subscribed`, or the error it got). */
export async function subscribe(client: JsonWsClient, channel: string): Promise<{ type: string; error_code?: string }> {
  const from = client.messages.length;
  client.send({ type: 'subscribe_channel', channel });
  return client.waitFor(
    (m) => (m.type === 'subscribed' && m.channel === channel) || m.type === 'error',
    10_000,
    `answer to subscribing ${channel}`,
    from,
  );
}

/** An SSE stream of `user` following `channels` (its status checked by the caller). */
export function sseOf(base: string, user: string, channels: string[], headers: Record<string, string> = {}): Promise<SseClient> {
  return openSse(`${notificationsSse(base, mintToken(user))}&channels=${channels.map(encodeURIComponent).join(',')}`, headers);
}

export const post = (base: string, user: string, deck: string, body: unknown) =>
  call(base, 'POST', `/api/v1/presentations/${deck}/chat`, { token: mintToken(user, { name: user.toUpperCase() }), body });

export const history = (base: string, user: string, deck: string, query = '') =>
  call(base, 'GET', `/api/v1/presentations/${deck}/chat${query}`, { token: mintToken(user) });

export const unread = async (base: string, user: string, deck: string): Promise<number> => {
  const res = await call(base, 'GET', `/api/v1/presentations/${deck}/chat/unread`, { token: mintToken(user) });
  if (res.status !== 200) throw new Error(`unread: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.unread;
};

/** Polls `check` until it holds (or throws with `what` after `timeoutMs`). */
export async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
