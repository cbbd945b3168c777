/** Version ids (UUIDs, lower case, as the server makes them). No imports: the client SDK bundles this. */
export const VERSION_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const versionIdRe = new RegExp(VERSION_ID_PATTERN);

export function isVersionId(value: unknown): value is string {
  return typeof value === 'string' && versionIdRe.test(value);
}
