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

export interface StoredLock extends LockHolder {
  slideId: string;
  acquiredAt: number;
  expiresAt: number;
}

export type AcquireResult = { ok: true; lock: StoredLock; changed: boolean } | { ok: false; lock: StoredLock };

export interface LockStore {
  /**
   * Takes the lock, or renews it when the same user holds it (a user re-taking a lock from another of its
   * connections, e.g. after a reload, moves it there). Fails with the current lock when another user holds it.
   */
  acquire(presentationId: string, slideId: string, holder: LockHolder, ttlMs: number, now?: number): Promise<AcquireResult>;
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
