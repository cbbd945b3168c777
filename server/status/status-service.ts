/**
 * User status across instances: what the user chose (`PUT /status`, in Postgres) shown while the user has a live
 * connection on any instance (./liveness.ts), `offline` otherwise. Every change others would see is published on
 * `status.{user_id}` as `user_status`: a new choice, the first live connection anywhere (online), the last one
 * ending (offline), and a crashed instance's users expiring (offline, announced by whichever instance takes them).
 *
 * Recovery: every ttl/3 this instance heartbeats its users and takes the expired ones; after a Redis reconnect it
 * heartbeats at once and announces its users' status again (a restarted Redis lost the presence keys and whatever
 * was published meanwhile).
 */
import type { FastifyBaseLogger } from 'fastify';
import { statusChannel } from '../../shared/channels.js';
import type { ChosenStatus, UserStatus, UserStatusEvent } from '../../shared/status.js';
import { canSeeStatus } from '../access/policy.js';
import type { Principal } from '../auth/jwt.js';
import type { Bus } from '../bus/types.js';
import { DomainError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { PresentationStore } from '../store/presentations.js';
import { MessageRetry } from '../streaming/publish-retry.js';
import type { Liveness } from './liveness.js';
import type { StatusStore } from './status-store.js';
import type { UserConnections } from './user-connections.js';

const EXPIRED_BATCH = 500;

export interface StatusServiceDeps {
  store: StatusStore;
  liveness: Liveness;
  connections: UserConnections;
  presentations: PresentationStore;
  bus: Bus;
  metrics: Metrics;
  log: FastifyBaseLogger;
  /** How often to heartbeat and sweep (a third of the presence TTL). */
  intervalMs: number;
}

export class StatusService {
  private readonly retry: MessageRetry;
  /** Per user, so that its transitions are applied and announced in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: StatusServiceDeps) {
    this.retry = new MessageRetry(deps.bus, deps.metrics, deps.log, 'status event');
    deps.connections.listen({
      first: (userId) => this.enqueue(userId, () => this.cameOnline(userId)),
      last: (userId) => this.enqueue(userId, () => this.wentOffline(userId)),
    });
  }

  /** Whether `principal` may see `userId`'s status (server/access/policy.ts canSeeStatus). */
  maySee(principal: Principal, userId: string): Promise<boolean> {
    return canSeeStatus(principal, userId, () => this.deps.presentations.shareAPresentation(principal.userId, userId));
  }

  async get(principal: Principal, userId: string): Promise<UserStatus> {
    if (!(await this.maySee(principal, userId))) throw new DomainError('PERMISSION_DENIED', 'you share no presentation with this user');
    return this.view(userId);
  }

  /** The caller chooses a status (and message, or none); announced to the user's followers. */
  async set(principal: Principal, status: ChosenStatus, message: string | null): Promise<UserStatus> {
    const clean = message?.trim() || null;
    if (clean?.includes('\u0000')) throw new DomainError('INVALID_MESSAGE', 'message must not contain NUL characters');
    await this.deps.store.set(principal.userId, status, clean);
    const view = await this.view(principal.userId);
    await this.publish(view);
    return view;
  }

  /** What others see of the user now. */
  async view(userId: string): Promise<UserStatus> {
    const [stored, live] = await Promise.all([this.deps.store.get(userId), this.isLive(userId)]);
    return {
      user_id: userId,
      status: live ? stored.status : 'offline',
      message: stored.message,
      last_seen: live ? new Date().toISOString() : stored.lastSeenAt === null ? null : new Date(stored.lastSeenAt).toISOString(),
    };
  }

  /** Heartbeat and sweep every interval. */
  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.deps.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.retry.stop();
  }

  /** Redis came back: renew this instance's users now and announce their status again. */
  async reannounce(): Promise<void> {
    const users = this.deps.connections.users();
    await this.deps.liveness.heartbeat(users).catch((err: unknown) => this.deps.log.warn({ err }, 'status heartbeat failed'));
    for (const userId of users) await this.announce(userId);
    this.deps.log.info({ users: users.length }, 'redis reconnected: user status announced again');
  }

  /** One round: renew this instance's users (announcing those that had been dropped), then take the expired. */
  async tick(): Promise<void> {
    try {
      const dropped = await this.deps.liveness.heartbeat(this.deps.connections.users());
      for (const userId of dropped) await this.announce(userId);
      const expired = await this.deps.liveness.takeExpired(EXPIRED_BATCH);
      for (const { userId, lastSeen } of expired) {
        // Expired although connected here (this instance stalled past the TTL): the next heartbeat adds it back.
        if (this.deps.connections.count(userId) > 0) continue;
        await this.deps.store.seen(userId, lastSeen);
        await this.announce(userId);
      }
    } catch (err) {
      this.deps.log.warn({ err }, 'status heartbeat failed (Redis unavailable?)');
    }
  }

  private async cameOnline(userId: string): Promise<void> {
    await this.deps.store.seen(userId, Date.now());
    if (await this.deps.liveness.online(userId)) await this.announce(userId);
  }

  private async wentOffline(userId: string): Promise<void> {
    // Connected again meanwhile (a reconnect): the user stays online.
    if (this.deps.connections.count(userId) > 0) return;
    await this.deps.store.seen(userId, Date.now());
    if (await this.deps.liveness.offline(userId)) await this.announce(userId);
  }

  private async announce(userId: string): Promise<void> {
    await this.publish(await this.view(userId));
  }

  private async isLive(userId: string): Promise<boolean> {
    try {
      return await this.deps.liveness.isLive(userId);
    } catch {
      // Redis unavailable: what this instance knows.
      return this.deps.connections.count(userId) > 0;
    }
  }

  private async publish(view: UserStatus): Promise<void> {
    const event: UserStatusEvent = { type: 'user_status', ...view, timestamp: new Date().toISOString() };
    await this.retry.publish(statusChannel(view.user_id), JSON.stringify(event));
  }

  private enqueue(userId: string, task: () => Promise<void>): void {
    const next = (this.chains.get(userId) ?? Promise.resolve())
      .then(task)
      .catch((err: unknown) => this.deps.log.warn({ err, userId }, 'status change not announced'));
    this.chains.set(userId, next);
    void next.then(() => {
      if (this.chains.get(userId) === next) this.chains.delete(userId);
    });
  }
}
