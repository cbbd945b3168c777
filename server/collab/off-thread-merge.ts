/**
 * Compaction's merge on a worker thread (./compaction-worker.ts), so that folding a document's log into its snapshot
 * never blocks the event loop: on the event loop it stalled every socket of the instance, a spike of 100–500 ms in
 * the fan-out each time a busy document compacted (seconds for a 10 MB one). One worker for the instance, started
 * on first use and unreferenced (it never keeps the process alive); requests are answered in order. If the worker
 * cannot start or dies, the requests waiting for it fail (compaction keeps every row and retries later) and the next
 * merge starts a new one. `close()` stops it (shutdown).
 */
import { Worker } from 'node:worker_threads';
import type { StoredDocument } from '../store/documents.js';
import type { MergeReply } from './compaction-worker.js';

export interface MergeResult {
  merged: Uint8Array;
  /** Rows that could not be decoded and were left out (index in snapshot-then-updates order). */
  badRows: { index: number; message: string }[];
}

/** From source (a .ts module) the worker is booted through tsx; from a build, the compiled worker runs directly. */
function workerUrl(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './compaction-worker-boot.mjs' : './compaction-worker.js', import.meta.url);
}

export class OffThreadMerge {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(result: MergeResult): void; reject(err: Error): void }>();

  merge(stored: StoredDocument): Promise<MergeResult> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<MergeResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, stored });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('compaction worker stopped'));
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerUrl());
    worker.unref();
    worker.on('message', (reply: MergeReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if ('error' in reply) waiter.reject(new Error(`compaction merge failed: ${reply.error}`));
      else waiter.resolve({ merged: reply.merged, badRows: reply.badRows });
    });
    const lost = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(err);
    };
    worker.on('error', (err) => lost(err));
    worker.on('exit', (code) => lost(new Error(`compaction worker exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  private failAll(err: Error): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const waiter of waiting) waiter.reject(err);
  }
}
