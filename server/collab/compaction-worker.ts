/**
 * The worker thread that merges a document's stored snapshot and log rows into one snapshot for compaction
 * (./off-thread-merge.ts starts it). Merging applies the whole document to a fresh Y.Doc and encodes it again: tens
 * of milliseconds for a small deck, seconds for a 10 MB one, which on the event loop would stall every socket of the
 * instance. Messages: in `{id, stored}`, out `{id, merged, badRows}` or `{id, error}`.
 */
import { parentPort } from 'node:worker_threads';
import type { StoredDocument } from '../store/documents.js';
import { mergeStored } from './doc-state.js';

export interface MergeRequest {
  id: number;
  stored: StoredDocument;
}

export type MergeReply = { id: number; merged: Uint8Array; badRows: { index: number; message: string }[] } | { id: number; error: string };

parentPort?.on('message', ({ id, stored }: MergeRequest) => {
  let reply: MergeReply;
  try {
    const badRows: { index: number; message: string }[] = [];
    const merged = mergeStored(stored, (index, err) => badRows.push({ index, message: err instanceof Error ? err.message : String(err) }));
    reply = { id, merged, badRows };
  } catch (err) {
    reply = { id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply, 'merged' in reply ? [reply.merged.buffer as ArrayBuffer] : []);
});
