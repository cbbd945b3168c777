/** Helpers shared by scenarios: CPU windows, metrics, and how each target is reached. */
import type { CpuSnapshot } from './proc.js';
import type { GenContext, Metric } from './protocol.js';
import type { LatencySummary } from './stats.js';
import type { Protocol } from './doc-clients.js';
import { mintToken } from './tokens.js';

export const GENERATOR_BOUND = 0.85;

export interface CpuWindow {
  wallMs: number;
  /** Server process µs. */
  serverUs: number;
  /** Server + its Postgres + Redis µs. */
  totalUs: number;
  postgresUs: number;
  redisUs: number;
  /** Share of a core used by the generator. */
  generatorUtil: number;
  /** Share of a core used by the server process. */
  serverUtil: number;
}

export function cpuWindow(a: CpuSnapshot, b: CpuSnapshot): CpuWindow {
  const d = (k: string) => (b.cpu[k] ?? 0) - (a.cpu[k] ?? 0);
  const wallMs = b.at - a.at;
  const serverUs = d('server');
  const postgresUs = d('postgres');
  const redisUs = d('redis');
  return {
    wallMs,
    serverUs,
    postgresUs,
    redisUs,
    totalUs: serverUs + postgresUs + redisUs,
    generatorUtil: wallMs > 0 ? d('generator') / (wallMs * 1000) : 0,
    serverUtil: wallMs > 0 ? serverUs / (wallMs * 1000) : 0,
  };
}

export function generatorFlags(window: CpuWindow): string[] {
  return window.generatorUtil > GENERATOR_BOUND ? [`generator-bound (${Math.round(window.generatorUtil * 100)} % CPU)`] : [];
}

export function metric(value: number, unit: string, better: 'lower' | 'higher', flags: string[] = []): Metric {
  return flags.length ? { value, unit, better, flags } : { value, unit, better };
}

/** p50, p99, p99.9, max (ms) and delivered (%) rows under one prefix. */
export function latencyMetrics(prefix: string, s: LatencySummary, deliveredFraction: number, flags: string[] = []): Record<string, Metric> {
  return {
    [`${prefix} p50`]: metric(s.p50, 'ms', 'lower', flags),
    [`${prefix} p99`]: metric(s.p99, 'ms', 'lower', flags),
    [`${prefix} p99.9`]: metric(s.p999, 'ms', 'lower', flags),
    [`${prefix} max`]: metric(s.max, 'ms', 'lower', flags),
    [`${prefix} delivered`]: metric(Math.floor(deliveredFraction * 100_000) / 1000, '%', 'higher', flags),
  };
}

export interface DocEndpoint {
  protocol: Protocol;
  url: string;
  docName(id: string): string;
  token(user: string): string;
  /** Deckhand needs presentations and members (its REST API); the peers accept anyone. */
  needsMembers: boolean;
}

export function docEndpoint(ctx: GenContext): DocEndpoint {
  const { target } = ctx;
  const ws = target.http.replace(/^http/, 'ws');
  if (target.kind === 'deckhand') {
    return {
      protocol: 'hocuspocus',
      url: `${ws}/api/v1/collab`,
      docName: (id) => `presentation:${id}`,
      token: (user) => mintToken(user, undefined, target.secret),
      needsMembers: true,
    };
  }
  if (target.kind === 'hocuspocus') {
    return { protocol: 'hocuspocus', url: ws, docName: (id) => `presentation:${id}`, token: () => 'bench', needsMembers: false };
  }
  return { protocol: 'y-websocket', url: ws, docName: (id) => `presentation-${id}`, token: () => '', needsMembers: false };
}
