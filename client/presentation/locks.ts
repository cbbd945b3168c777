/**
 * Slide locks of one presentation (shared/locks.ts protocol over the collaboration connection): the current table
 * (sent by the server on join, then kept up to date from its changes), and lock / unlock requests that settle when
 * the table shows the result or the server refuses (LOCKED with the holder, PERMISSION_DENIED for viewers and
 * commenters, NOT_FOUND for a slide that does not exist or unlocking a lock you do not hold, RATE_LIMIT_EXCEEDED past
 * the lock limits).
 */
import { isSlideId, type SlideLock } from '../../shared/locks.js';
import { Emitter } from '../emitter.js';
import { DeckhandError } from '../errors.js';
import { lockAnswerSlideOf } from './stateless.js';

const ANSWER_TIMEOUT_MS = 10_000;

interface PendingRequest {
  slideId: string;
  /** True once the table shows the request's effect. */
  satisfied(): boolean;
  resolve(): void;
  reject(error: DeckhandError): void;
}

export interface LockTransport {
  /** Sends a stateless message once the document is synced (and the user known). */
  send(payload: string): Promise<void>;
  /** The signed-in user's id. */
  userId(): string | undefined;
}

export class Locks {
  private table: SlideLock[] = [];
  private readonly pending = new Set<PendingRequest>();
  private readonly events = new Emitter<{ change: readonly SlideLock[] }>();

  constructor(private readonly transport: LockTransport) {}

  /** Every lock of the presentation. */
  get all(): readonly SlideLock[] {
    return this.table;
  }

  holder(slideId: string): SlideLock | undefined {
    return this.table.find((lock) => lock.slide_id === slideId);
  }

  /** True when the signed-in user holds the slide's lock. */
  isMine(slideId: string): boolean {
    const userId = this.transport.userId();
    return userId !== undefined && this.holder(slideId)?.user_id === userId;
  }

  /** True when another user holds the slide's lock (your edits there would be rolled back). */
  isLockedByOther(slideId: string): boolean {
    const lock = this.holder(slideId);
    return lock !== undefined && lock.user_id !== this.transport.userId();
  }

  onChange(listener: (locks: readonly SlideLock[]) => void): () => void {
    return this.events.on('change', listener);
  }

  /** Takes the slide's lock; resolves with it, or rejects with LOCKED (and the holder) or PERMISSION_DENIED. */
  async lock(slideId: string): Promise<SlideLock> {
    await this.request('lock_slide', slideId, () => this.isMine(slideId));
    return this.holder(slideId) as SlideLock;
  }

  /** Releases the slide's lock; rejects with NOT_FOUND when you do not hold it. */
  unlock(slideId: string): Promise<void> {
    return this.request('unlock_slide', slideId, () => !this.isMine(slideId));
  }

  receiveChanges(set: SlideLock[], released: string[]): void {
    const changed = new Set([...released, ...set.map((l) => l.slide_id)]);
    this.receiveTable([...this.table.filter((l) => !changed.has(l.slide_id)), ...set]);
  }

  receiveTable(locks: SlideLock[]): void {
    this.table = locks;
    for (const request of [...this.pending]) {
      if (request.satisfied()) this.settle(request, () => request.resolve());
    }
    this.events.emit('change', locks);
  }

  /** Rejects the requests of the slide an error answers (not those of slides a refused edit touched). */
  receiveError(error: DeckhandError): void {
    const slideId = lockAnswerSlideOf(error);
    if (slideId === null) return;
    for (const request of [...this.pending]) {
      if (request.slideId === slideId) this.settle(request, () => request.reject(error));
    }
  }

  /** Rejects what is still waiting (the session is closing). */
  dispose(): void {
    for (const request of [...this.pending]) this.settle(request, () => request.reject(new DeckhandError('CONFLICT', 'the presentation was closed')));
    this.events.clear();
  }

  private settle(request: PendingRequest, how: () => void): void {
    if (this.pending.delete(request)) how();
  }

  private request(type: 'lock_slide' | 'unlock_slide', slideId: string, done: () => boolean): Promise<void> {
    if (!isSlideId(slideId)) return Promise.reject(new TypeError(`not a slide id: ${JSON.stringify(slideId)}`));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          this.settle(request, () => reject(new DeckhandError('INTERNAL_ERROR', `no answer to ${type} ${slideId} within ${ANSWER_TIMEOUT_MS} ms`))),
        ANSWER_TIMEOUT_MS,
      );
      const request: PendingRequest = {
        slideId,
        satisfied: done,
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      this.pending.add(request);
      this.transport.send(JSON.stringify({ type, slide_id: slideId })).catch((err: unknown) => {
        this.settle(request, () => request.reject(err instanceof DeckhandError ? err : new DeckhandError('INTERNAL_ERROR', String(err))));
      });
    });
  }
}
