/**
 * The activity log: features record what happened to a presentation (`record`), members read it
 * (GET …/activity). Recording never fails the action it describes: a store error is logged and the action goes on.
 * Events older than the retention period (ACTIVITY_RETENTION_DAYS) are pruned by a timer on every instance.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ActivityActor, ActivityList, ActivityType } from '../../shared/activity.js';
import type { Principal } from '../auth/jwt.js';
import type { ActivityStore } from './activity-store.js';

/** Who did it: a principal (its user id and name are kept), an actor, or null for the server itself. */
export type Actor = Pick<Principal, 'userId' | 'name'> | ActivityActor | null;

/** What other features hold to record events (the whole log is not theirs to use). */
export interface ActivityRecorder {
  record(presentationId: string, type: ActivityType, actor: Actor, details?: Record<string, unknown>): Promise<void>;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;
/** The first prune runs shortly after start, not an hour later. */
const FIRST_PRUNE_MS = 30_000;

function toActor(actor: Actor): ActivityActor | null {
  if (actor === null) return null;
  if ('userId' in actor) return { user_id: actor.userId, name: actor.name || actor.userId };
  return actor;
}

export class ActivityLog implements ActivityRecorder {
  private timers: NodeJS.Timeout[] = [];
  readonly stats = { recorded: 0, failed: 0, pruned: 0 };

  constructor(
    private readonly store: ActivityStore,
    private readonly log: FastifyBaseLogger,
    private readonly retentionDays: number,
  ) {}

  async record(presentationId: string, type: ActivityType, actor: Actor, details: Record<string, unknown> = {}): Promise<void> {
    try {
      await this.store.insert(presentationId, type, toActor(actor), details);
      this.stats.recorded++;
    } catch (err) {
      this.stats.failed++;
      this.log.warn({ err, presentationId, type }, 'could not record an activity event');
    }
  }

  async list(presentationId: string, limit: number, before?: string): Promise<ActivityList> {
    const { events, more } = await this.store.list(presentationId, limit, before);
    return { events, next_before: more ? (events[events.length - 1]?.id ?? null) : null };
  }

  async prune(): Promise<number> {
    const pruned = await this.store.pruneOlderThan(this.retentionDays);
    this.stats.pruned += pruned;
    if (pruned > 0) this.log.info({ pruned, retentionDays: this.retentionDays }, 'old activity events pruned');
    return pruned;
  }

  startRetention(): void {
    if (this.timers.length > 0) return;
    const run = () => void this.prune().catch((err: unknown) => this.log.warn({ err }, 'activity prune failed'));
    this.timers = [setTimeout(run, FIRST_PRUNE_MS).unref(), setInterval(run, PRUNE_EVERY_MS).unref()];
  }

  stopRetention(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }
}
