/**
 * The load generator: one process per scenario run, started by bench/run.ts under `taskset -c 1`. It receives
 * {scenario, targets}, runs bench/scenarios/<scenario>.ts against the target (`run`), or against all of them at once
 * for a paired scenario (`runPaired`), and sends back the metrics of each.
 * CPU marks and the target's memory are read by the runner (it owns the pids) on request over IPC.
 */
import type { CpuSnapshot } from './lib/proc.js';
import type { GenContext, GenMessage, MemoryUsage, PairedRun, RunnerReply, RunRequest, ScenarioOutput, TargetInfo } from './lib/protocol.js';

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

function contextOf(target: TargetInfo, quick: boolean, paired: boolean): GenContext {
  const of = target.id;
  return {
    target,
    quick,
    mark: (label) => request<CpuSnapshot>((id) => ({ type: 'mark', id, of, label })),
    memory: () => request<MemoryUsage>((id) => ({ type: 'target', id, of, request: 'mem' })),
    phases: () => request<Record<string, number> | null>((id) => ({ type: 'target', id, of, request: 'phases' })),
    stats: () => request<unknown>((id) => ({ type: 'target', id, of, request: 'stats' })),
    request: (type, args) => request<unknown>((id) => ({ type: 'target', id, of, request: type, ...(args ? { args } : {}) })),
    log: (message) => send({ type: 'log', message: paired ? `${of}: ${message}` : message }),
  };
}

async function run(req: RunRequest): Promise<void> {
  const ctxs = req.targets.map((t) => contextOf(t, req.quick, req.paired));
  try {
    // Run as TypeScript (tsx) or as the transpiled copy in bench/.cache/dist.
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    const mod = (await import(`./scenarios/${req.scenario}.${ext}`)) as {
      run?(ctx: GenContext): Promise<ScenarioOutput>;
      runPaired?: PairedRun;
    };
    const outputs = req.paired ? await mod.runPaired!(ctxs) : { [ctxs[0]!.target.id]: await mod.run!(ctxs[0]!) };
    send({ type: 'result', outputs });
  } catch (err) {
    send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
  // Sockets may still be closing: the runner ends this process once it has the result.
}
