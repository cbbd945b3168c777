/**
 * The load generator: one process per scenario run, started by bench/run.ts under `taskset -c 1`. It receives
 * {scenario, target}, runs bench/scenarios/<scenario>.ts against the target, and sends back the metrics.
 * CPU marks and the target's memory are read by the runner (it owns the pids) on request over IPC.
 */
import type { CpuSnapshot } from './lib/proc.js';
import type { GenContext, GenMessage, MemoryUsage, RunnerReply, RunRequest, ScenarioOutput } from './lib/protocol.js';

let nextId = 0;
const waiting = new Map<number, (value: unknown) => void>();

function send(message: GenMessage): void {
  process.send?.(message);
}

function request<T>(build: (id: number) => GenMessage): Promise<T> {
  const id = ++nextId;
  return new Promise<T>((resolve) => {
    waiting.set(id, resolve as (value: unknown) => void);
    send(build(id));
  });
}

process.on('message', (raw: unknown) => {
  const msg = raw as RunRequest | RunnerReply;
  if (msg.type === 'reply') {
    waiting.get(msg.id)?.(msg.value);
    waiting.delete(msg.id);
    return;
  }
  if (msg.type === 'run') void run(msg);
});

async function run(req: RunRequest): Promise<void> {
  const ctx: GenContext = {
    target: req.target,
    quick: req.quick,
    mark: (label) => request<CpuSnapshot>((id) => ({ type: 'mark', id, label })),
    memory: () => request<MemoryUsage>((id) => ({ type: 'target', id, request: 'mem' })),
    phases: () => request<Record<string, number> | null>((id) => ({ type: 'target', id, request: 'phases' })),
    stats: () => request<unknown>((id) => ({ type: 'target', id, request: 'stats' })),
    request: (type, args) => request<unknown>((id) => ({ type: 'target', id, request: type, ...(args ? { args } : {}) })),
    log: (message) => send({ type: 'log', message }),
  };
  try {
    // Run as TypeScript (tsx) or as the transpiled copy in bench/.cache/dist.
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    const mod = (await import(`./scenarios/${req.scenario}.${ext}`)) as { run(ctx: GenContext): Promise<ScenarioOutput> };
    const output = await mod.run(ctx);
    send({ type: 'result', output });
  } catch (err) {
    send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
  // Sockets may still be closing: the runner ends this process once it has the result.
}
