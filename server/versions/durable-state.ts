/**
 * A presentation's document as the database holds it (snapshot merged with every log row): what a version stores.
 * The database rather than this instance's memory, because that is what is durable and what every instance agrees
 * on: an acknowledged edit is in it (appended before it is acknowledged), an edit still in flight on another instance is not, and the
 * version never depends on which instance took it.
 */
import { createHash } from 'node:crypto';
import * as Y from 'yjs';
import { documentName, toPlain } from '../../shared/presentation.js';
import type { VersionDocument } from '../../shared/versions.js';
import { applyStored } from '../collab/doc-state.js';
import type { DocumentStore } from '../store/documents.js';
import { stableStringify } from './values.js';

export interface DurableState {
  /** `Y.encodeStateAsUpdate` of the merged, garbage-collected document. */
  snapshot: Uint8Array;
  /** SHA-256 of the plain JSON content with sorted keys: equal for versions that show the same document. */
  contentSha256: Uint8Array;
}

export function contentHash(doc: Y.Doc): Uint8Array {
  return createHash('sha256')
    .update(stableStringify(toPlain(doc)))
    .digest();
}

export async function readDurableState(
  documents: DocumentStore,
  presentationId: string,
  onBadRow?: (index: number, err: unknown) => void,
): Promise<DurableState> {
  const doc = new Y.Doc({ gc: true });
  try {
    applyStored(doc, await documents.load(documentName(presentationId)), null, onBadRow);
    return { snapshot: Y.encodeStateAsUpdate(doc), contentSha256: contentHash(doc) };
  } finally {
    doc.destroy();
  }
}

/** A stored version's document (a throwaway Y.Doc the caller destroys). */
export function decodeSnapshot(snapshot: Uint8Array): Y.Doc {
  const doc = new Y.Doc({ gc: true });
  Y.applyUpdate(doc, snapshot);
  return doc;
}

export function plainDocument(snapshot: Uint8Array): VersionDocument {
  const doc = decodeSnapshot(snapshot);
  try {
    return toPlain(doc) as VersionDocument;
  } finally {
    doc.destroy();
  }
}
