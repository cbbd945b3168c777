/** JSON over HTTP with the client's token; a non-2xx answer becomes a DeckhandError with the server's code. */
import type { ClientContext } from './context.js';
import { codeOfStatus, DeckhandError, isErrorMessage } from './errors.js';
import { resolveToken } from './token.js';

export async function requestJson(
  ctx: ClientContext,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const headers: Record<string, string> = { authorization: `Bearer ${await resolveToken(ctx.token)}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await ctx.fetch(ctx.httpUrl(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    if (isErrorMessage(json)) throw DeckhandError.fromMessage(json);
    throw new DeckhandError(codeOfStatus(response.status), `${method} ${path} failed with HTTP ${response.status}`);
  }
  return json;
}
