/**
 * CPU time and memory of processes from /proc (Linux). CPU = utime + stime of /proc/{pid}/stat (all threads of the
 * process), in clock ticks (CLK_TCK = 100 on Linux), converted to microseconds. For Postgres the postmaster and every
 * child process are summed, plus the postmaster's cutime/cstime (children that already exited).
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_US = 10_000; // 1 / CLK_TCK (100 Hz), the Linux default

interface StatFields {
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

function readStat(pid: number): StatFields | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3].
  return {
    ppid: Number(rest[1]),
    utime: Number(rest[11]),
    stime: Number(rest[12]),
    cutime: Number(rest[13]),
    cstime: Number(rest[14]),
  };
}

/** CPU time of one process (all its threads), in µs; 0 when it is gone. */
export function cpuMicros(pid: number): number {
  const s = readStat(pid);
  return s ? (s.utime + s.stime) * TICK_US : 0;
}

/** CPU time of a process and all its direct children (plus children that exited), in µs. */
export function treeCpuMicros(pid: number): number {
  const root = readStat(pid);
  if (!root) return 0;
  let ticks = root.utime + root.stime + root.cutime + root.cstime;
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child) || child === pid) continue;
    const s = readStat(child);
    if (s && s.ppid === pid) ticks += s.utime + s.stime;
  }
  return ticks * TICK_US;
}

/** Context switches (voluntary + involuntary) of every thread of a process, and of its direct children with `tree`. */
export function contextSwitches(pid: number, tree = false): number {
  const pids = [pid];
  if (tree) {
    for (const entry of readdirSync('/proc')) {
      const child = Number(entry);
      if (Number.isInteger(child) && child !== pid && readStat(child)?.ppid === pid) pids.push(child);
    }
  }
  let total = 0;
  for (const p of pids) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const status = readFileSync(`/proc/${p}/task/${task}/status`, 'utf8');
        for (const m of status.matchAll(/_ctxt_switches:\s+(\d+)/g)) total += Number(m[1]);
      } catch {
        // the thread exited
      }
    }
  }
  return total;
}

/** Resident set size in bytes (VmRSS), 0 when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface CpuSnapshot {
  /** Wall clock (performance.now(), ms). */
  at: number;
  /** µs per process role: server (the node process), postgres, redis, generator. */
  cpu: Record<string, number>;
}

export interface CpuDelta {
  wallMs: number;
  /** µs of CPU used in the window, per role. */
  cpuUs: Record<string, number>;
  /** Share of one core, per role (0..1). */
  util: Record<string, number>;
}

export function cpuDelta(a: CpuSnapshot, b: CpuSnapshot): CpuDelta {
  const wallMs = b.at - a.at;
  const cpuUs: Record<string, number> = {};
  const util: Record<string, number> = {};
  for (const key of Object.keys(b.cpu)) {
    cpuUs[key] = (b.cpu[key] ?? 0) - (a.cpu[key] ?? 0);
    util[key] = wallMs > 0 ? cpuUs[key]! / (wallMs * 1000) : 0;
  }
  return { wallMs, cpuUs, util };
}
