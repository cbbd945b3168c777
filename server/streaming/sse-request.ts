/** What an SSE request carries besides the token: the resume point (`Last-Event-ID` header or `?last_event_id=`). */
import type { FastifyRequest } from 'fastify';
import type { Upgrade } from './upgrade.js';

const MAX_ID_LENGTH = 8192;

export function lastEventIdOf(request: Pick<FastifyRequest, 'headers' | 'query'> | Upgrade): string | undefined {
  const header = request.headers['last-event-id'];
  const query = (request.query as Record<string, unknown> | undefined)?.last_event_id;
  const value = typeof header === 'string' && header.length > 0 ? header : typeof query === 'string' && query.length > 0 ? query : undefined;
  // An over-long id is kept (cut): it matches nothing, so the stream starts with a reset.
  return value?.slice(0, MAX_ID_LENGTH).trim();
}
