/**
 * Where slide locks live: in memory (one instance) or in Redis (every instance sees them). A lock has a holder
 * (user and connection), an expiry renewed by the holder's activity, and is released by its holder, by its
 * connection leaving, or by expiry. Stores are dumb and atomic; LockService adds the protocol around them.
 */
export interface LockHolder {
  userId: string;
  name: string;
  color: string;
  /** The connection holding it (`rest:{userId}` for locks taken over HTTP). */
  connectionId: string;
}

/** The struct id of a slide's Y.Map: the lock protects that map, whatever its `id` field says. */
export interface SlideRef {
  client: number;
  clock: number;
}

/** The slide to lock: its id (how users name it) and the struct id of its map (what the guard protects). */
export interface LockTarget {
  slideId: string;
  ref: SlideRef;
}

export interface StoredLock extends LockHolder {
  slideId: string;
  /** Absent only on locks written by an older version (the guard then protects every slide with that id). */
  slideRef?: SlideRef;
  acquiredAt: number;
  expiresAt: number;
}

/** How many locks one user may hold in a document, and how many a document may have. */
export interface LockLimits {
  perUser: number;
  perDocument: number;
}

export type AcquireResult =
  | { ok: true; lock: StoredLock; changed: boolean }
  | { ok: false; reason: 'held'; lock: StoredLock }
  | { ok: false; reason: 'limit'; limit: 'user' | 'document'; max: number };

export interface LockStore {
  /**
   * Takes the lock, or renews it when the same user holds it (a user re-taking a lock from another of its
   * connections, e.g. after a reload, moves it there). Fails with the current lock when another user holds it, and
   * when a new lock would pass the user's or the document's limit (renewals never do). Atomic.
   */
  acquire(presentationId: string, target: LockTarget, holder: LockHolder, ttlMs: number, limits: LockLimits, now?: number): Promise<AcquireResult>;
  /** Releases when `userId` holds it (or `force`); returns whether a lock was removed. */
  release(presentationId: string, slideId: string, userId: string | null, force?: boolean): Promise<boolean>;
  /** Extends every lock held by the connection; returns how many. */
  renew(presentationId: string, connectionId: string, ttlMs: number, now?: number): Promise<number>;
  /** Releases every lock held by the connection; returns the released slide ids. */
  releaseConnection(presentationId: string, connectionId: string): Promise<string[]>;
  /** Drops expired locks; returns the released slide ids. */
  releaseExpired(presentationId: string, now?: number): Promise<string[]>;
  /** Current (unexpired) locks. */
  list(presentationId: string, now?: number): Promise<StoredLock[]>;
  close(): Promise<void>;
}
