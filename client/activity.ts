/** The activity log of a presentation over REST (`GET /api/v1/presentations/{id}/activity`), newest first. */
import type { ActivityEvent, ActivityList } from '../shared/activity.js';
import { isPresentationId } from '../shared/presentation.js';
import type { ClientContext } from './context.js';
import { DeckhandError } from './errors.js';
import { requestJson } from './rest.js';

function isEvent(value: unknown): value is ActivityEvent {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return typeof e.id === 'string' && typeof e.type === 'string' && typeof e.at === 'string' && typeof e.details === 'object' && e.details !== null;
}

export class Activity {
  constructor(private readonly ctx: ClientContext) {}

  /** Events, newest first; pass the answer's `next_before` as `before` for older ones. */
  async list(presentationId: string, options: { limit?: number; before?: string } = {}): Promise<ActivityList> {
    if (!isPresentationId(presentationId)) throw new TypeError(`not a presentation id: ${JSON.stringify(presentationId)}`);
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.before !== undefined) query.set('before', options.before);
    const search = query.toString();
    const body = (await requestJson(this.ctx, 'GET', `/api/v1/presentations/${presentationId}/activity${search ? `?${search}` : ''}`)) as
      | Record<string, unknown>
      | undefined;
    if (!Array.isArray(body?.events) || !body.events.every(isEvent))
      throw new DeckhandError('INTERNAL_ERROR', 'unexpected activity list from the server');
    return { events: body.events, next_before: typeof body.next_before === 'string' ? body.next_before : null };
  }
}
