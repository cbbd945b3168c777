/**
 * Versions of a presentation: REST shapes shared by the server (validation, OpenAPI) and the SDK.
 * A version is a stored snapshot of the whole document; restoring one makes the live document equal it through a
 * new forward change, after taking a `backup` version of what it replaces. No server-only imports here.
 */
import { Type, type Static } from 'typebox';
import { VERSION_ID_PATTERN } from './version-id.js';

export const VERSION_KINDS = ['manual', 'automatic', 'backup'] as const;
export type VersionKind = (typeof VERSION_KINDS)[number];

export { isVersionId, VERSION_ID_PATTERN } from './version-id.js';

export const VERSION_LABEL_MAX_LENGTH = 200;
export const VERSIONS_PAGE_MAX = 100;

export const VersionIdSchema = Type.String({ pattern: VERSION_ID_PATTERN, description: 'a version id (UUID)' });

export const CreateVersionBody = Type.Object(
  { label: Type.Optional(Type.String({ minLength: 1, maxLength: VERSION_LABEL_MAX_LENGTH })) },
  { additionalProperties: false },
);
export type CreateVersionBody = Static<typeof CreateVersionBody>;

export const ListVersionsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: VERSIONS_PAGE_MAX, default: 20 })),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$', description: 'next_cursor of the previous page' })),
  },
  { additionalProperties: false },
);
export type ListVersionsQuery = Static<typeof ListVersionsQuery>;

export const VersionSummarySchema = Type.Object({
  version_id: Type.String(),
  presentation_id: Type.String(),
  label: Type.Union([Type.String(), Type.Null()]),
  kind: Type.Union([Type.Literal('manual'), Type.Literal('automatic'), Type.Literal('backup')]),
  /** The user who made it (null for automatic versions). */
  created_by: Type.Union([Type.String(), Type.Null()]),
  created_by_name: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  /** Size of the stored snapshot in bytes. */
  size_bytes: Type.Integer(),
});
export type VersionSummary = Static<typeof VersionSummarySchema>;

export const VersionListSchema = Type.Object({
  versions: Type.Array(VersionSummarySchema),
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
export type VersionList = Static<typeof VersionListSchema>;

/** The plain JSON document of a version (the same shape as shared/presentation.ts `toPlain`). */
export const VersionDocumentSchema = Type.Object({
  meta: Type.Record(Type.String(), Type.Unknown()),
  slides: Type.Array(Type.Unknown()),
  comments: Type.Record(Type.String(), Type.Unknown()),
});
export type VersionDocument = Static<typeof VersionDocumentSchema>;

export const RestoreResultSchema = Type.Object({
  restored: Type.String(),
  /** The automatic version taken just before the restore: restoring it undoes this restore. */
  backup_version_id: Type.String(),
});
export type RestoreResult = Static<typeof RestoreResultSchema>;
