/**
 * Chat retention: messages older than CHAT_RETENTION_DAYS are deleted (tombstones too) an hour apart, and a minute
 * after start. Every instance runs it; the DELETE is idempotent. Read marks stay (they hold a position, not a message).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ChatStore } from './chat-store.js';

const PRUNE_EVERY_MS = 60 * 60 * 1000;
const FIRST_PRUNE_MS = 60 * 1000;

export class ChatRetention {
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ChatStore,
    private readonly days: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  async prune(): Promise<number> {
    const pruned = await this.store.pruneOlderThan(this.days);
    if (pruned > 0) this.log.info({ pruned, retentionDays: this.days }, 'old chat messages pruned');
    return pruned;
  }

  start(): void {
    const run = () => void this.prune().catch((err: unknown) => this.log.warn({ err }, 'chat prune failed'));
    this.timer = setInterval(run, PRUNE_EVERY_MS).unref();
    this.first = setTimeout(run, FIRST_PRUNE_MS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.first);
    this.timer = this.first = undefined;
  }
}
