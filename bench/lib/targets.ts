/** The servers under test: which launcher, which environment. Every target runs with NODE_ENV=production, logging off. */
import type { TargetKind } from './protocol.js';
import { BENCH_SECRET } from './tokens.js';

export interface Infra {
  /** Database URL for this target run (a fresh database), when the target needs one. */
  dbUrl: string | undefined;
  redisUrl: string;
}

export interface TargetDef {
  label: string;
  kind: TargetKind;
  transport?: 'ws' | 'sse';
  /**
   * Runs the server of the checkout named by BENCH_B_ROOT (its own build), not this one's: an A/B of two versions of
   * Deckhand in one run. Skipped when BENCH_B_ROOT is not set.
   */
  fromB?: boolean;
  script: string;
  needsDb: boolean;
  env(infra: Infra): Record<string, string>;
}

const deckhandEnv = (infra: Infra, redis: boolean): Record<string, string> => ({
  JWT_SECRET: BENCH_SECRET,
  AUTO_CREATE_PRESENTATIONS: 'true',
  LOG_LEVEL: 'silent',
  DATABASE_URL: infra.dbUrl!,
  ...(redis ? { REDIS_URL: infra.redisUrl } : {}),
  // The limiters stay on (with their Redis store when REDIS_URL is set); their budgets are raised past the load (the
  // JSON sockets' per-connection bucket too: the JSON collaboration scenario sends thousands of operations a second).
  HTTP_RATE_LIMIT_MAX: '10000000',
  CHAT_RATE_MAX: '1000000',
  WS_RATE_BURST: '1000000',
  WS_RATE_PER_SEC: '1000000',
});

export const TARGETS: Record<string, TargetDef> = {
  deckhand: {
    label: 'Deckhand',
    kind: 'deckhand',
    script: 'deckhand.ts',
    needsDb: true,
    env: (infra) => deckhandEnv(infra, false),
  },
  hocuspocus: {
    label: 'Hocuspocus Server',
    kind: 'hocuspocus',
    script: 'hocuspocus.ts',
    needsDb: false,
    env: () => ({}),
  },
  'hocuspocus-db': {
    label: 'Hocuspocus + extension-database',
    kind: 'hocuspocus',
    script: 'hocuspocus.ts',
    needsDb: true,
    env: (infra) => ({ BENCH_DB_URL: infra.dbUrl! }),
  },
  'y-websocket': {
    label: '@y/websocket-server',
    kind: 'y-websocket',
    script: 'y-websocket.ts',
    needsDb: false,
    env: () => ({}),
  },
  'y-websocket-pg': {
    label: '@y/websocket-server + Postgres',
    kind: 'y-websocket',
    script: 'y-websocket.ts',
    needsDb: true,
    env: (infra) => ({ BENCH_DB_URL: infra.dbUrl! }),
  },
  'yjs-parse': {
    label: 'Yjs alone (applyUpdate)',
    kind: 'yjs',
    script: 'yjs-parse.ts',
    needsDb: false,
    env: () => ({}),
  },
  'deckhand-ws': {
    label: 'Deckhand WS',
    kind: 'deckhand',
    transport: 'ws',
    script: 'deckhand.ts',
    needsDb: true,
    env: (infra) => deckhandEnv(infra, true),
  },
  'deckhand-ws-b': {
    label: 'Deckhand WS (B)',
    kind: 'deckhand',
    transport: 'ws',
    script: 'deckhand.ts',
    needsDb: true,
    fromB: true,
    // Its own Redis keys: two Deckhands on one prefix would be one cluster (shared job states and channels).
    env: (infra) => ({ ...deckhandEnv(infra, true), REDIS_PREFIX: 'deckhand-b' }),
  },
  'deckhand-sse': {
    label: 'Deckhand SSE',
    kind: 'deckhand',
    transport: 'sse',
    script: 'deckhand.ts',
    needsDb: true,
    env: (infra) => deckhandEnv(infra, true),
  },
  socketio: {
    label: 'Socket.IO',
    kind: 'socketio',
    script: 'socketio.ts',
    needsDb: false,
    env: () => ({}),
  },
  'socketio-redis': {
    label: 'Socket.IO + redis-adapter',
    kind: 'socketio',
    script: 'socketio.ts',
    needsDb: false,
    env: (infra) => ({ BENCH_REDIS_ADAPTER: '1', REDIS_URL: infra.redisUrl }),
  },
  'raw-ws': {
    label: 'raw ws',
    kind: 'raw-ws',
    transport: 'ws',
    script: 'raw-ws.ts',
    needsDb: false,
    env: (infra) => ({ REDIS_URL: infra.redisUrl }),
  },
  'raw-sse': {
    label: 'raw SSE',
    kind: 'raw-sse',
    transport: 'sse',
    script: 'raw-sse.ts',
    needsDb: false,
    env: (infra) => ({ REDIS_URL: infra.redisUrl }),
  },
};
