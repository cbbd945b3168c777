/**
 * What every target launcher shares: it is started by bench/run.ts under `taskset -c 0` with an IPC channel, tells
 * the runner its port once listening, and answers:
 *   {type:'mem'}     → process.memoryUsage() after two full GCs (launched with --expose-gc)
 *   {type:'phases'}  → the target's own phase timings (cold load), if it records any
 *   {type:'stop'}    → closes and exits
 *   {type:'profile-start'} / {type:'profile-stop', file} → a CPU profile of one measurement window
 *   {type:'alloc-start'} / {type:'alloc-stop', file} → a sampling allocation profile of one window (.heapprofile:
 *     every allocation sampled, the collected ones included; read with bench/tools/alloc-summary.ts)
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

export interface TargetHandle {
  port: number;
  close(): Promise<void>;
  phases?: () => unknown;
  /** Target-specific counters (e.g. Deckhand's appends and batches). */
  stats?: () => unknown;
  /** Other requests this target answers (`ctx.request(type, args)` in a scenario). */
  custom?: Record<string, (args: Record<string, unknown>) => unknown>;
}

interface Request {
  type: string;
  id?: number;
}

export function serve(handle: TargetHandle): void {
  const send = (message: object) => process.send?.(message);
  let session: Session | undefined;
  let snapshots = 0;
  /** Profilers running (a CPU and an allocation profile may run at once, on one inspector session). */
  let profiling = 0;
  const connect = (): Session => {
    session ??= new Session();
    if (profiling++ === 0) session.connect();
    return session;
  };
  /** The reply to a `…-stop`: the profile written to `file`; the session closed once no profiler runs. */
  const writeStopped = (id: number | undefined, file: string | undefined) => (err: Error | null, result: { profile: object }) => {
    if (!err && file) writeFileSync(file, JSON.stringify(result.profile));
    if (--profiling === 0) session?.disconnect();
    send({ type: 'reply', id, value: !err });
  };
  process.on('message', (raw: unknown) => {
    const msg = raw as Request & { file?: string };
    if (msg.type === 'profile-start') {
      // CPU profile of one measurement window (bench/run.ts --profile), via the inspector.
      const s = connect();
      s.post('Profiler.enable', () =>
        s.post('Profiler.setSamplingInterval', { interval: 200 }, () =>
          s.post('Profiler.start', () => send({ type: 'reply', id: msg.id, value: true })),
        ),
      );
    } else if (msg.type === 'profile-stop') {
      session?.post('Profiler.stop', writeStopped(msg.id, msg.file));
    } else if (msg.type === 'alloc-start') {
      const s = connect();
      s.post('HeapProfiler.enable', () =>
        s.post(
          'HeapProfiler.startSampling',
          { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true },
          () => send({ type: 'reply', id: msg.id, value: true }),
        ),
      );
    } else if (msg.type === 'alloc-stop') {
      session?.post('HeapProfiler.stopSampling', writeStopped(msg.id, msg.file));
    } else if (msg.type === 'mem') {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      // Let finalizers and freed sockets settle, then collect once more.
      setTimeout(() => {
        gc?.();
        const usage = process.memoryUsage();
        // bench/run.ts --heap: a heap snapshot at every memory reading (compare them with bench/tools/heap-diff.ts).
        if (process.env.BENCH_HEAP_DIR)
          writeHeapSnapshot(join(process.env.BENCH_HEAP_DIR, `${process.env.BENCH_TARGET_ID}-${++snapshots}.heapsnapshot`));
        send({ type: 'reply', id: msg.id, value: usage });
      }, 100);
    } else if (msg.type === 'phases') {
      send({ type: 'reply', id: msg.id, value: handle.phases?.() ?? null });
    } else if (handle.custom?.[msg.type]) {
      Promise.resolve()
        .then(() => handle.custom![msg.type]!((msg as { args?: Record<string, unknown> }).args ?? {}))
        .then(
          (value) => send({ type: 'reply', id: msg.id, value }),
          (err: unknown) => send({ type: 'reply', id: msg.id, value: { error: String(err) } }),
        );
    } else if (msg.type === 'stats') {
      send({ type: 'reply', id: msg.id, value: handle.stats?.() ?? null });
    } else if (msg.type === 'stop') {
      const timer = setTimeout(() => process.exit(0), 3000);
      timer.unref();
      handle
        .close()
        .catch(() => {})
        .finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port: handle.port });
}

/** Phase timings of a cold load, recorded inside the target (ms, performance.now()). */
export class PhaseClock {
  private readonly marks = new Map<string, number>();
  readonly durations: Record<string, number> = {};

  start(phase: string): void {
    this.marks.set(phase, performance.now());
  }

  end(phase: string): void {
    const started = this.marks.get(phase);
    if (started === undefined) return;
    this.durations[phase] = (this.durations[phase] ?? 0) + performance.now() - started;
    this.marks.delete(phase);
  }

  add(phase: string, ms: number): void {
    this.durations[phase] = (this.durations[phase] ?? 0) + ms;
  }

  take(): Record<string, number> {
    const copy = { ...this.durations };
    for (const key of Object.keys(this.durations)) delete this.durations[key];
    return copy;
  }
}
