/**
 * Values inside a Yjs document, as the version diff sees them: comparing plain values (JSON, bytes, subdocuments),
 * copying any value into another document, and a canonical JSON (object keys sorted) for hashes and keys.
 */
import * as Y from 'yjs';

/** Any shared type (they are invariant in their event type, so `AbstractType<unknown>` would not do). */
// biome-ignore lint/suspicious/noExplicitAny: the one way to name every shared type (see above)
export type AnyType = Y.AbstractType<any>;

/** JSON with object keys sorted (so equal content gives equal text whatever order keys were set in). */
export function stableStringify(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value instanceof Y.AbstractType) return stableStringify(value.toJSON());
  if (value instanceof Y.Doc) return JSON.stringify({ $doc: value.guid });
  if (ArrayBuffer.isView(value)) return JSON.stringify({ $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') });
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** Equality of two values that are not shared types (JSON, bytes, subdocuments by guid). */
export function equalValues(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return stableStringify(a) === stableStringify(b);
}

/** A copy of `value` that can be inserted into another document (shared types are cloned, with their content). */
export function cloneValue(value: unknown): unknown {
  if (value instanceof Y.AbstractType) return value.clone();
  if (value instanceof Y.Doc) return new Y.Doc({ guid: value.guid, collectionid: value.collectionid, gc: value.gc, meta: value.meta });
  if (value instanceof Uint8Array) return value.slice();
  return value;
}

/** Same shared type, so one can be edited into the other (same class; same node name for XML elements). */
export function sameKind(a: AnyType, b: AnyType): boolean {
  if (a.constructor !== b.constructor) return false;
  if (a instanceof Y.XmlElement) return a.nodeName === (b as Y.XmlElement).nodeName;
  if (a instanceof Y.XmlHook) return a.hookName === (b as Y.XmlHook).hookName;
  return true;
}

/** The `id` of a map that carries one (slides, comments): such maps are matched by it, never by position. */
export function idOf(value: unknown): string | null {
  if (!(value instanceof Y.Map) || value instanceof Y.XmlHook) return null;
  const id = value.get('id');
  return typeof id === 'string' ? id : null;
}

function kindOf(type: AnyType): string {
  if (type instanceof Y.XmlText) return 'xmltext';
  if (type instanceof Y.Text) return 'text';
  if (type instanceof Y.XmlElement) return `xml:${type.nodeName}`;
  if (type instanceof Y.XmlFragment) return 'fragment';
  if (type instanceof Y.XmlHook) return `hook:${type.hookName}`;
  if (type instanceof Y.Map) return 'map';
  if (type instanceof Y.Array) return 'array';
  return 'type';
}

/**
 * What identifies an item of a sequence when two versions of it are matched: its `id` for maps that have one, else
 * its whole content (two items with equal keys are equal, so matching them changes nothing).
 */
export function matchKey(item: unknown): string {
  const id = idOf(item);
  if (id !== null) return `id:${id}`;
  if (item instanceof Y.XmlFragment || item instanceof Y.XmlText) return `${kindOf(item)}:${item.toString()}`;
  if (item instanceof Y.Text) return `text:${stableStringify(item.toDelta())}`;
  if (item instanceof Y.AbstractType) return `${kindOf(item)}:${stableStringify(item)}`;
  return `value:${stableStringify(item)}`;
}
