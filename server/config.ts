/**
 * Configuration: one validated schema over the environment (every variable and default: docs/configuration.md).
 * `loadConfig(env)` returns a typed config or throws a ConfigError listing every bad variable with what was expected.
 */
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

const Bool = Type.Boolean();

/** The automatic notifications that can be turned on and off (AUTO_NOTIFICATIONS). */
export const AUTO_NOTIFICATION_KINDS = ['job', 'share', 'mention'] as const;
export type AutoNotificationKind = (typeof AUTO_NOTIFICATION_KINDS)[number];
const KIND = `(${AUTO_NOTIFICATION_KINDS.join('|')})`;
/** `all`, `none`, or a comma-separated list of kinds (`job,share`). */
const AUTO_NOTIFICATIONS_PATTERN = `^(all|none|${KIND}( *, *${KIND})*)$`;
const Int = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });

const EnvSchema = Type.Object({
  PORT: Type.Optional(Int(0, 65535)),
  HOST: Type.Optional(Type.String({ minLength: 1 })),
  NODE_ENV: Type.Optional(Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')])),
  LOG_LEVEL: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))),
  DATA_DIR: Type.Optional(Type.String({ minLength: 1 })),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_POOL_SIZE: Type.Optional(Int(1, 200)),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_PREFIX: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$' })),
  JWT_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  JWT_PUBLIC_KEY: Type.Optional(Type.String({ pattern: '-----BEGIN' })),
  JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1 })),
  JWT_ISSUER: Type.Optional(Type.String({ minLength: 1 })),
  CORS_ORIGINS: Type.Optional(Type.String()),
  AUTO_CREATE_PRESENTATIONS: Type.Optional(Bool),
  LOCK_TTL_MS: Type.Optional(Int(1000, 86_400_000)),
  LOCK_MAX_PER_USER: Type.Optional(Int(1, 10_000)),
  LOCK_MAX_PER_DOCUMENT: Type.Optional(Int(1, 100_000)),
  SHUTDOWN_TIMEOUT_MS: Type.Optional(Int(100, 600_000)),
  SSE_KEEPALIVE_INTERVAL: Type.Optional(Int(1, 3600)),
  NOTIFICATION_RETENTION_HOURS: Type.Optional(Int(1, 24 * 365)),
  WEBSOCKET_MAX_CONNECTIONS_PER_USER: Type.Optional(Int(1, 10_000)),
  WS_MAX_FRAME_BYTES: Type.Optional(Int(1024, 64 * 1024 * 1024)),
  COLLAB_MAX_FRAME_BYTES: Type.Optional(Int(1024, 256 * 1024 * 1024)),
  COLLAB_MAX_INFLIGHT_BYTES: Type.Optional(Int(1024, 1024 * 1024 * 1024)),
  WS_OUTBOUND_BUFFER_BYTES: Type.Optional(Int(1024, 1024 * 1024 * 1024)),
  WS_RATE_BURST: Type.Optional(Int(1, 1_000_000)),
  WS_RATE_PER_SEC: Type.Optional(Int(1, 1_000_000)),
  HTTP_RATE_LIMIT_MAX: Type.Optional(Int(1, 10_000_000)),
  HTTP_RATE_LIMIT_WINDOW_MS: Type.Optional(Int(100, 86_400_000)),
  HTTP_RATE_LIMIT_SYNC_MS: Type.Optional(Int(5, 60_000)),
  COMPACT_AFTER_UPDATES: Type.Optional(Int(1, 10_000_000)),
  COLLAB_ACK_TIMEOUT_MS: Type.Optional(Int(1000, 600_000)),
  COLLAB_APPEND_QUEUE_BYTES: Type.Optional(Int(64 * 1024, 64 * 1024 * 1024 * 1024)),
  COLLAB_CLIENT_ID_CLAIMS_MAX: Type.Optional(Int(1, 1_000_000)),
  COLLAB_CLIENT_ID_CLAIMS_WINDOW_MS: Type.Optional(Int(1000, 30 * 86_400_000)),
  VERSION_INTERVAL_MS: Type.Optional(Int(100, 7 * 86_400_000)),
  ACTIVITY_RETENTION_DAYS: Type.Optional(Int(1, 3650)),
  CHAT_RETENTION_DAYS: Type.Optional(Int(1, 36_500)),
  CHAT_RATE_MAX: Type.Optional(Int(1, 1_000_000)),
  CHAT_RATE_WINDOW_MS: Type.Optional(Int(100, 86_400_000)),
  CHAT_TYPING_TIMEOUT_MS: Type.Optional(Int(500, 600_000)),
  STATUS_PRESENCE_TTL_MS: Type.Optional(Int(1000, 3_600_000)),
  AUTO_NOTIFICATIONS: Type.Optional(Type.String({ pattern: AUTO_NOTIFICATIONS_PATTERN })),
  WS_PING_INTERVAL_MS: Type.Optional(Int(0, 3_600_000)),
  JOB_WRITE_INTERVAL_MS: Type.Optional(Int(1, 60_000)),
});

type Env = Static<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  redisUrl: string | undefined;
  redisPrefix: string;
  jwt: {
    /** HS256 secret; undefined when a public key is configured, or until the dev secret is resolved. */
    secret: string | undefined;
    /** PEM public key for RS256/ES256. */
    publicKey: string | undefined;
    audience: string | undefined;
    issuer: string | undefined;
    /** True when no key was configured: outside production a dev secret is kept in DATA_DIR (see auth/dev-secret). */
    generated: boolean;
  };
  corsOrigins: string[] | '*';
  autoCreatePresentations: boolean;
  lockTtlMs: number;
  /** Locks one user may hold in one document, and locks one document may have. */
  lockLimits: { perUser: number; perDocument: number };
  shutdownTimeoutMs: number;
  sseKeepaliveMs: number;
  notificationRetentionHours: number;
  /** How often a job's latest progress is written to Postgres at most (terminal states are written at once). */
  jobWriteIntervalMs: number;
  limits: {
    maxConnectionsPerUser: number;
    wsMaxFrameBytes: number;
    collabMaxFrameBytes: number;
    /** Bytes of frames one /collab socket may have waiting to be handled (their appends in flight); then it is closed. */
    collabMaxInflightBytes: number;
    outboundBufferBytes: number;
    rateBurst: number;
    ratePerSec: number;
    httpRateMax: number;
    httpRateWindowMs: number;
    /** How often the instances share their HTTP rate counts through Redis (the limit's tolerance, server/limits). */
    httpRateSyncMs: number;
  };
  compactAfterUpdates: number;
  /** An edit's acknowledgement waiting this long for its commit closes the socket with 1013 (the client resends). */
  collabAckTimeoutMs: number;
  /** Bytes of appends waiting for Postgres (all documents); past it new edits are refused with 1013. */
  collabAppendQueueBytes: number;
  /** New Yjs client ids one user may claim in one document per window (every instance's claims count). */
  clientIdClaims: { max: number; windowMs: number };
  /** An automatic version after this much time of editing. */
  versionIntervalMs: number;
  /** Activity events older than this are pruned. */
  activityRetentionDays: number;
  chat: {
    /** Messages older than this are pruned. */
    retentionDays: number;
    /** At most `rateMax` posts and edits per user per `rateWindowMs` (across instances with Redis). */
    rateMax: number;
    rateWindowMs: number;
    /** A `typing:true` not renewed within this is followed by `typing:false`. */
    typingTimeoutMs: number;
  };
  /** An instance's live connections stop counting (status) this long after its last heartbeat (Redis only). */
  statusPresenceTtlMs: number;
  /** Which automatic notifications are sent: a job that ends, being added to a presentation, an @mention in a comment. */
  autoNotifications: Record<AutoNotificationKind, boolean>;
  /** How often the server pings JSON sockets; a socket that has not answered the previous ping is dropped. 0: never. */
  wsPingIntervalMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function describe(schema: unknown): string {
  const s = schema as { type?: string; minimum?: number; maximum?: number; pattern?: string; anyOf?: { const: unknown }[]; minLength?: number };
  if (s.anyOf) return `one of ${s.anyOf.map((a) => a.const).join(', ')}`;
  if (s.type === 'integer') return `an integer from ${s.minimum} to ${s.maximum}`;
  if (s.type === 'boolean') return 'true or false';
  if (s.pattern) return `a string matching ${s.pattern}`;
  if (s.minLength) return `a string of at least ${s.minLength} characters`;
  return 'a string';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value.trim();
  }
  const converted = Value.Convert(EnvSchema, raw) as Record<string, unknown>;
  const problems: string[] = [];
  for (const [key, value] of Object.entries(converted)) {
    const schema = (EnvSchema.properties as Record<string, unknown>)[key] as Record<string, unknown>;
    if (!Value.Check(schema, value)) {
      problems.push(`${key}=${key.startsWith('JWT_') ? '<hidden>' : JSON.stringify(raw[key])} is not valid: expected ${describe(schema)}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  const e = converted as Env;
  const nodeEnv = e.NODE_ENV ?? 'development';
  const production = nodeEnv === 'production';

  if (e.JWT_SECRET && e.JWT_PUBLIC_KEY) problems.push('set JWT_SECRET or JWT_PUBLIC_KEY, not both');
  if (production && !e.JWT_SECRET && !e.JWT_PUBLIC_KEY) {
    problems.push('NODE_ENV=production requires JWT_SECRET (HS256) or JWT_PUBLIC_KEY (RS256/ES256)');
  }
  const lockMaxPerUser = e.LOCK_MAX_PER_USER ?? 20;
  const lockMaxPerDocument = e.LOCK_MAX_PER_DOCUMENT ?? 200;
  if (lockMaxPerUser > lockMaxPerDocument) {
    problems.push(`LOCK_MAX_PER_USER (${lockMaxPerUser}) must not be larger than LOCK_MAX_PER_DOCUMENT (${lockMaxPerDocument})`);
  }
  const collabMaxFrameBytes = e.COLLAB_MAX_FRAME_BYTES ?? 8 * 1024 * 1024;
  const collabMaxInflightBytes = e.COLLAB_MAX_INFLIGHT_BYTES ?? Math.max(32 * 1024 * 1024, 2 * collabMaxFrameBytes);
  if (collabMaxInflightBytes < collabMaxFrameBytes) {
    problems.push(`COLLAB_MAX_INFLIGHT_BYTES (${collabMaxInflightBytes}) must be at least COLLAB_MAX_FRAME_BYTES (${collabMaxFrameBytes})`);
  }
  if (problems.length) throw new ConfigError(problems);

  const generated = !e.JWT_SECRET && !e.JWT_PUBLIC_KEY;
  const corsRaw = e.CORS_ORIGINS?.trim();
  return {
    port: e.PORT ?? 8000,
    host: e.HOST ?? '0.0.0.0',
    nodeEnv,
    logLevel: e.LOG_LEVEL ?? 'info',
    dataDir: e.DATA_DIR ?? './data',
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE ?? 10,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX ?? 'deckhand',
    jwt: {
      secret: e.JWT_SECRET,
      publicKey: e.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n'),
      audience: e.JWT_AUDIENCE,
      issuer: e.JWT_ISSUER,
      generated,
    },
    corsOrigins:
      !corsRaw || corsRaw === '*'
        ? '*'
        : corsRaw
            .split(',')
            .map((o) => o.trim())
            .filter(Boolean),
    autoCreatePresentations: e.AUTO_CREATE_PRESENTATIONS ?? !production,
    lockTtlMs: e.LOCK_TTL_MS ?? 300_000,
    lockLimits: { perUser: lockMaxPerUser, perDocument: lockMaxPerDocument },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS ?? 10_000,
    sseKeepaliveMs: (e.SSE_KEEPALIVE_INTERVAL ?? 15) * 1000,
    notificationRetentionHours: e.NOTIFICATION_RETENTION_HOURS ?? 24,
    jobWriteIntervalMs: e.JOB_WRITE_INTERVAL_MS ?? 250,
    limits: {
      maxConnectionsPerUser: e.WEBSOCKET_MAX_CONNECTIONS_PER_USER ?? 5,
      wsMaxFrameBytes: e.WS_MAX_FRAME_BYTES ?? 1024 * 1024,
      collabMaxFrameBytes,
      collabMaxInflightBytes,
      outboundBufferBytes: e.WS_OUTBOUND_BUFFER_BYTES ?? 1024 * 1024,
      rateBurst: e.WS_RATE_BURST ?? 100,
      ratePerSec: e.WS_RATE_PER_SEC ?? 10,
      httpRateMax: e.HTTP_RATE_LIMIT_MAX ?? 1000,
      httpRateWindowMs: e.HTTP_RATE_LIMIT_WINDOW_MS ?? 60_000,
      httpRateSyncMs: e.HTTP_RATE_LIMIT_SYNC_MS ?? 100,
    },
    compactAfterUpdates: e.COMPACT_AFTER_UPDATES ?? 500,
    collabAckTimeoutMs: e.COLLAB_ACK_TIMEOUT_MS ?? 30_000,
    collabAppendQueueBytes: e.COLLAB_APPEND_QUEUE_BYTES ?? 256 * 1024 * 1024,
    clientIdClaims: { max: e.COLLAB_CLIENT_ID_CLAIMS_MAX ?? 200, windowMs: e.COLLAB_CLIENT_ID_CLAIMS_WINDOW_MS ?? 3_600_000 },
    versionIntervalMs: e.VERSION_INTERVAL_MS ?? 600_000,
    activityRetentionDays: e.ACTIVITY_RETENTION_DAYS ?? 90,
    chat: {
      retentionDays: e.CHAT_RETENTION_DAYS ?? 90,
      rateMax: e.CHAT_RATE_MAX ?? 20,
      rateWindowMs: e.CHAT_RATE_WINDOW_MS ?? 10_000,
      typingTimeoutMs: e.CHAT_TYPING_TIMEOUT_MS ?? 5000,
    },
    statusPresenceTtlMs: e.STATUS_PRESENCE_TTL_MS ?? 30_000,
    autoNotifications: parseAutoNotifications(e.AUTO_NOTIFICATIONS ?? 'all'),
    wsPingIntervalMs: e.WS_PING_INTERVAL_MS ?? 30_000,
  };
}

/** `all`, `none` or a list of kinds (already checked against the pattern) → one flag per kind. */
function parseAutoNotifications(value: string): Record<AutoNotificationKind, boolean> {
  const listed = new Set(value.split(',').map((kind) => kind.trim()));
  const on = (kind: AutoNotificationKind) => listed.has('all') || listed.has(kind);
  return { job: on('job'), share: on('share'), mention: on('mention') };
}
