/**
 * The worker thread that merges a document's stored snapshot and log rows into one snapshot for compaction
 * (./off-thread-merge.ts starts it). Merging applies the whole document to a fresh Y.Doc and encodes it again: tens
 * of milliseconds for a small deck, seconds for a 10 MB one, which on the event loop would stall every socket of the
 * instance. Messages: in `{id, stored}`, out `{id, merged, badRows}` or `{id, error}`.
 *
 * The thread runs at the lowest priority (nice 19): compaction is background work, and where the server has one core
 * (or shares it with Postgres, as in the benchmark) a merge at normal priority would still take half of it from the
 * sockets. On Linux a thread is its own task, so `setPriority(0, …)` renices this thread only; elsewhere it would
 * renice the whole process, so it is not done there.
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { StoredDocument } from '../store/documents.js';
import { mergeStored } from './doc-state.js';

export interface MergeRequest {
  id: number;
  stored: StoredDocument;
}

export type MergeReply = { id: number; merged: Uint8Array; badRows: { index: number; message: string }[] } | { id: number; error: string };

if (process.platform === 'linux') {
  try {
    setPriority(0, 19);
  } catch {
    // Not allowed here: the merge runs at the server's priority.
  }
}

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
