/**
 * Chat per presentation, one Fastify plugin: the REST routes (./routes.ts) and the chat's message types on the
 * notifications socket (./socket-handlers.ts). `createChat` builds the feature from the app's store, bus and Redis;
 * the live events travel on the notifications socket and SSE stream (channel `chat.{id}`).
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { TokenVerifier } from '../auth/jwt.js';
import type { Bus } from '../bus/types.js';
import type { Config } from '../config.js';
import { createRateWindow } from '../limits/rate-window.js';
import type { Metrics } from '../metrics.js';
import type { SocketMessages } from '../notifications/index.js';
import type { Db } from '../store/db.js';
import type { PresentationStore } from '../store/presentations.js';
import { ChatEvents } from './chat-events.js';
import { ChatService } from './chat-service.js';
import { ChatStore } from './chat-store.js';
import { ChatRetention } from './retention.js';
import { registerChatRoutes } from './routes.js';
import { registerChatSocketMessages } from './socket-handlers.js';
import { TypingTracker } from './typing.js';
import { MemoryTypingLeases, RedisTypingLeases } from './typing-leases.js';

export { ChatService } from './chat-service.js';

export interface ChatDeps {
  config: Config;
  db: Db;
  presentations: PresentationStore;
  bus: Bus;
  redis: Redis | undefined;
  metrics: Metrics;
  log: FastifyBaseLogger;
}

export interface Chat {
  service: ChatService;
  retention: ChatRetention;
  typing: TypingTracker;
  /** Starts the background work: retention and the sweep of typists whose instance died. */
  start(): void;
  /** Stops it (shutdown). */
  stop(): void;
}

export function createChat(deps: ChatDeps): Chat {
  const { config, redis, log } = deps;
  const store = new ChatStore(deps.db);
  const events = new ChatEvents(deps.bus, deps.metrics, log);
  const leases = redis ? new RedisTypingLeases(redis, config.redisPrefix) : new MemoryTypingLeases();
  const typing = new TypingTracker(
    leases,
    (lease, on) => events.typing(lease.presentationId, lease.userId, lease.userName, on),
    config.chat.typingTimeoutMs,
    log,
  );
  const rate = createRateWindow({ name: 'chat', max: config.chat.rateMax, windowMs: config.chat.rateWindowMs }, redis, config.redisPrefix);
  const service = new ChatService({ store, presentations: deps.presentations, events, typing, rate });
  const retention = new ChatRetention(store, config.chat.retentionDays, log);
  return {
    service,
    retention,
    typing,
    start() {
      retention.start();
      typing.startSweeping();
    },
    stop() {
      retention.stop();
      void typing.shutdown();
      events.stop();
    },
  };
}

export interface ChatPluginOptions {
  verifier: TokenVerifier;
  chat: Chat;
  socketMessages: SocketMessages;
}

export async function chatPlugin(app: FastifyInstance, options: ChatPluginOptions): Promise<void> {
  registerChatRoutes(app, options.verifier, options.chat.service);
  registerChatSocketMessages(options.socketMessages, options.chat.service);
}
