/** Types shared by the runner (bench/run.ts), the load generator (bench/gen.ts) and the scenarios. */
import type { CpuSnapshot } from './proc.js';

export type TargetKind = 'deckhand' | 'hocuspocus' | 'y-websocket' | 'socketio' | 'raw-ws' | 'raw-sse' | 'yjs';

export interface TargetInfo {
  /** Column id in the results, e.g. `deckhand`, `deckhand-sse`, `socketio-redis`. */
  id: string;
  label: string;
  kind: TargetKind;
  /** Variant of the client side for one server kind (e.g. Deckhand over `ws` or `sse`). */
  transport?: 'ws' | 'sse';
  port: number;
  http: string;
  /** Database the target uses (cold-load fixtures are stored there by the scenario). */
  dbUrl?: string;
  redisUrl?: string;
  /** HS256 secret of the Deckhand target. */
  secret: string;
}

export interface Metric {
  value: number;
  unit: string;
  better: 'lower' | 'higher';
  /** e.g. "generator-bound". */
  flags?: string[];
}

export interface ScenarioOutput {
  metrics: Record<string, Metric>;
  /** Anything else worth keeping in the JSON (per-step tables, phases). */
  details?: unknown;
  notes?: string[];
}

export interface RunRequest {
  type: 'run';
  scenario: string;
  /** One target; several for a paired scenario (all up at once, measured in alternating windows). */
  targets: TargetInfo[];
  paired: boolean;
  quick: boolean;
}

export interface MemoryUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface GenContext {
  target: TargetInfo;
  quick: boolean;
  /** CPU of server / postgres / redis / generator right now (read by the runner from /proc). */
  mark(label: string): Promise<CpuSnapshot>;
  /** The target's memory after full GCs. */
  memory(): Promise<MemoryUsage>;
  /** The target's recorded phases (cold load). */
  phases(): Promise<Record<string, number> | null>;
  /** Target-specific counters, or null. */
  stats(): Promise<unknown>;
  /** Any other request the target answers (TargetHandle.custom). */
  request(type: string, args?: Record<string, unknown>): Promise<unknown>;
  log(message: string): void;
}

/** Generator → runner messages (`of`: the id of the target a mark or request is for). */
export type GenMessage =
  | { type: 'mark'; id: number; of: string; label: string }
  | { type: 'target'; id: number; of: string; request: string; args?: Record<string, unknown> }
  | { type: 'log'; message: string }
  | { type: 'result'; outputs: Record<string, ScenarioOutput> }
  | { type: 'error'; message: string };

/** A paired scenario's module: one context per target, one output per target id. */
export type PairedRun = (ctxs: GenContext[]) => Promise<Record<string, ScenarioOutput>>;

/** Runner → generator replies. */
export type RunnerReply = { type: 'reply'; id: number; value: unknown };
