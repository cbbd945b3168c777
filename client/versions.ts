/**
 * Versions of a presentation over REST (`/api/v1/presentations/{id}/versions`): take one, list them (newest first,
 * a page at a time), read one as plain JSON, restore one. A restore changes the live document through an ordinary
 * update, so open sessions follow it by themselves; its `backup_version_id` restores what it replaced.
 */
import { isPresentationId } from '../shared/presentation.js';
import { isVersionId } from '../shared/version-id.js';
import type { RestoreResult, VersionDocument, VersionList, VersionSummary } from '../shared/versions.js';
import type { ClientContext } from './context.js';
import { DeckhandError } from './errors.js';
import { requestJson } from './rest.js';

function presentationPath(presentationId: string): string {
  if (!isPresentationId(presentationId)) throw new TypeError(`not a presentation id: ${JSON.stringify(presentationId)}`);
  return `/api/v1/presentations/${presentationId}/versions`;
}

function versionPath(presentationId: string, versionId: string): string {
  if (!isVersionId(versionId)) throw new TypeError(`not a version id: ${JSON.stringify(versionId)}`);
  return `${presentationPath(presentationId)}/${versionId}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isVersionSummary(value: unknown): value is VersionSummary {
  return isRecord(value) && isVersionId(value.version_id) && typeof value.kind === 'string' && typeof value.created_at === 'string';
}

function unexpected(what: string): DeckhandError {
  return new DeckhandError('INTERNAL_ERROR', `unexpected ${what} from the server`);
}

export class Versions {
  constructor(private readonly ctx: ClientContext) {}

  /** Takes a version of the document as the server has stored it (editors and owners). */
  async create(presentationId: string, options: { label?: string } = {}): Promise<VersionSummary> {
    const body = await requestJson(this.ctx, 'POST', presentationPath(presentationId), options.label === undefined ? {} : { label: options.label });
    if (!isVersionSummary(body)) throw unexpected('version');
    return body;
  }

  /** Newest first; pass the answer's `next_cursor` as `cursor` for older ones. */
  async list(presentationId: string, options: { limit?: number; cursor?: string } = {}): Promise<VersionList> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.cursor !== undefined) query.set('cursor', options.cursor);
    const search = query.toString();
    const body = await requestJson(this.ctx, 'GET', `${presentationPath(presentationId)}${search ? `?${search}` : ''}`);
    if (!isRecord(body) || !Array.isArray(body.versions) || !body.versions.every(isVersionSummary)) throw unexpected('version list');
    return { versions: body.versions, next_cursor: typeof body.next_cursor === 'string' ? body.next_cursor : null };
  }

  /** The document as it was in the version, as plain JSON. */
  async get(presentationId: string, versionId: string): Promise<VersionDocument> {
    const body = await requestJson(this.ctx, 'GET', versionPath(presentationId, versionId));
    if (!isRecord(body) || !isRecord(body.meta) || !Array.isArray(body.slides) || !isRecord(body.comments)) throw unexpected('version document');
    return body as VersionDocument;
  }

  /**
   * Makes the live document equal the version (editors and owners). Rejects with a DeckhandError `LOCKED` (details:
   * `slide_ids`, `holders`) when it would change a slide another user holds; nothing is changed then.
   */
  async restore(presentationId: string, versionId: string): Promise<RestoreResult> {
    const body = await requestJson(this.ctx, 'POST', `${versionPath(presentationId, versionId)}/restore`);
    if (!isRecord(body) || !isVersionId(body.restored) || !isVersionId(body.backup_version_id)) throw unexpected('restore result');
    return { restored: body.restored, backup_version_id: body.backup_version_id };
  }
}
