/** The signed-in user's presentations over REST: list them (with the user's role) and delete one. */
import type { PresentationListResponse, PresentationSummary } from '../shared/dashboard-api.js';
import { isPresentationId } from '../shared/presentation.js';
import type { ClientContext } from './context.js';
import { DeckhandError } from './errors.js';
import { requestJson } from './rest.js';

const ROLES = new Set(['owner', 'editor', 'commenter', 'viewer']);

function isSummary(value: unknown): value is PresentationSummary {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    typeof p.id === 'string' &&
    (p.title === null || typeof p.title === 'string') &&
    ROLES.has(p.role as string) &&
    typeof p.created_at === 'string' &&
    typeof p.updated_at === 'string'
  );
}

export class Presentations {
  constructor(private readonly ctx: ClientContext) {}

  /** The presentations the user is a member of, newest first; pass `next_cursor` back as `cursor` for more. */
  async list(options: { limit?: number; cursor?: string } = {}): Promise<PresentationListResponse> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.cursor !== undefined) query.set('cursor', options.cursor);
    const search = query.toString();
    const body = (await requestJson(this.ctx, 'GET', `/api/v1/presentations${search ? `?${search}` : ''}`)) as Record<string, unknown> | undefined;
    const list = body?.presentations;
    const next = body?.next_cursor;
    if (!Array.isArray(list) || !list.every(isSummary) || !(next === null || typeof next === 'string')) {
      throw new DeckhandError('INTERNAL_ERROR', 'unexpected presentation list from the server');
    }
    return { presentations: list, next_cursor: next };
  }

  /** Deletes a presentation (its owner): open sessions on it are told NOT_FOUND and closed. */
  async delete(id: string): Promise<void> {
    if (!isPresentationId(id)) throw new TypeError(`not a presentation id: ${JSON.stringify(id)}`);
    await requestJson(this.ctx, 'DELETE', `/api/v1/presentations/${id}`);
  }
}
