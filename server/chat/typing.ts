/**
 * Typing indicators: not stored, and they end on their own. A typist's `chat_typing {typing:true}` is announced
 * (`chat_typing` on `chat.{id}`), renewed by every further `typing:true` — and announced again at most every
 * `timeoutMs / 2` while renewed, so that someone who starts following meanwhile learns of it — and followed by exactly
 * one `typing:false` when the typist says so, stays quiet for `timeoutMs`, or closes the connection it typed on. The
 * instance the typist is connected to keeps that state (a timer per typist); the leases (./typing-leases.ts) cover
 * the instance dying: another instance takes the expired lease and announces the stop.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ExpiredLeases, TypingLease, TypingLeases } from './typing-leases.js';

/** How much longer a lease lives than its owner's timer: only a lease its owner could not end expires. */
export const LEASE_GRACE_MS = 3000;
const SWEEP_BATCH = 500;
/**
 * The longest a sweeper sleeps with no lease to wait for: a lease taken meanwhile (by any instance) lives longer
 * than this (its owner's typing timeout, at least 500 ms, plus the grace), so its expiry is never missed.
 */
const IDLE_SWEEP_MS = LEASE_GRACE_MS;
/** After Redis failed a sweep. */
const RETRY_SWEEP_MS = 1000;

interface Typist {
  lease: TypingLease;
  /** What keeps the typist typing: the connections (or REST callers) that sent `typing:true` since. */
  holders: Set<object>;
  timer: NodeJS.Timeout;
  /** When a `typing:true` was last published (0: never, so no `typing:false` is owed). */
  announcedAt: number;
}

export type TypingAnnounce = (lease: TypingLease, typing: boolean) => Promise<void>;

export class TypingTracker {
  private readonly typists = new Map<string, Typist>();
  /** Per typist, so that its announcements keep their order. */
  private readonly chains = new Map<string, Promise<void>>();
  private sweeper: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly leases: TypingLeases,
    private readonly announce: TypingAnnounce,
    private readonly timeoutMs: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** `holder` (a connection) says the user types in the presentation: announced if new, renewed otherwise. */
  start(lease: TypingLease, holder: object): Promise<void> {
    const key = keyOf(lease);
    let typist = this.typists.get(key);
    if (typist) clearTimeout(typist.timer);
    else {
      typist = { lease, holders: new Set(), timer: undefined as unknown as NodeJS.Timeout, announcedAt: 0 };
      this.typists.set(key, typist);
    }
    typist.holders.add(holder);
    const current = typist;
    typist.timer = setTimeout(() => void this.end(current), this.timeoutMs);
    typist.timer.unref();
    return this.enqueue(key, async () => {
      let fresh = false;
      try {
        fresh = await this.leases.renew(current.lease, this.timeoutMs + LEASE_GRACE_MS);
      } catch (err) {
        this.log.debug({ err }, 'typing lease not renewed (Redis unavailable)');
      }
      if (this.typists.get(key) !== current) return;
      if (current.announcedAt !== 0 && !fresh && Date.now() - current.announcedAt < this.timeoutMs / 2) return;
      current.announcedAt = Date.now();
      await this.announce(current.lease, true);
    });
  }

  /** `holder` stopped typing there; the typist stops when no holder is left. */
  stop(presentationId: string, userId: string, holder: object): Promise<void> {
    const typist = this.typists.get(keyOf({ presentationId, userId }));
    if (!typist) return Promise.resolve();
    typist.holders.delete(holder);
    return typist.holders.size === 0 ? this.end(typist) : Promise.resolve();
  }

  /** The user stopped typing there, whoever held it (the user posted a message). */
  clear(presentationId: string, userId: string): Promise<void> {
    const typist = this.typists.get(keyOf({ presentationId, userId }));
    return typist ? this.end(typist) : Promise.resolve();
  }

  /** `holder` went away (its connection closed): everything it kept typing stops. */
  release(holder: object): void {
    for (const typist of [...this.typists.values()]) {
      if (!typist.holders.delete(holder)) continue;
      if (typist.holders.size === 0) void this.end(typist);
    }
  }

  /**
   * Announces the stops of the typists whose instance died (their leases expired): a sweep when the earliest lease
   * expires, or IDLE_SWEEP_MS after the last one when there is none, not on a fixed interval.
   */
  startSweeping(): void {
    if (this.sweeping) return;
    this.sweeping = true;
    this.nextSweep(0);
  }

  /** Stops sweeping and ends every local typist (shutdown: the others hear `typing:false` now, not after expiry). */
  async shutdown(): Promise<void> {
    this.sweeping = false;
    clearTimeout(this.sweeper);
    this.sweeper = undefined;
    await Promise.allSettled([...this.typists.values()].map((typist) => this.end(typist)));
  }

  /** One sweep; resolves with the ms until the next one is due. */
  async sweep(): Promise<number> {
    let taken: ExpiredLeases;
    try {
      taken = await this.leases.takeExpired(SWEEP_BATCH);
    } catch {
      return RETRY_SWEEP_MS; // Redis unavailable
    }
    for (const lease of taken.leases) {
      // Ours after all (this instance stalled past the grace): its own timer or renewal decides.
      if (this.typists.has(keyOf(lease))) continue;
      await this.announce(lease, false).catch((err: unknown) => this.log.warn({ err }, 'typing stop not announced'));
    }
    return Math.min(taken.nextInMs ?? IDLE_SWEEP_MS, IDLE_SWEEP_MS);
  }

  private nextSweep(delayMs: number): void {
    this.sweeper = setTimeout(() => {
      void this.sweep().then((next) => {
        if (this.sweeping) this.nextSweep(next);
      });
    }, delayMs);
    this.sweeper.unref();
  }

  private end(typist: Typist): Promise<void> {
    const key = keyOf(typist.lease);
    if (this.typists.get(key) !== typist) return Promise.resolve();
    clearTimeout(typist.timer);
    this.typists.delete(key);
    return this.enqueue(key, async () => {
      await this.leases.end(typist.lease).catch((err: unknown) => this.log.debug({ err }, 'typing lease not ended (Redis unavailable)'));
      if (typist.announcedAt !== 0) await this.announce(typist.lease, false);
    });
  }

  private enqueue(key: string, task: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(key) ?? Promise.resolve()).then(task).catch((err: unknown) => this.log.warn({ err }, 'typing announcement failed'));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }
}

function keyOf(lease: Pick<TypingLease, 'presentationId' | 'userId'>): string {
  return JSON.stringify([lease.presentationId, lease.userId]);
}
