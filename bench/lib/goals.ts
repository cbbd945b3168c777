/** The targets, evaluated from a run's results (each row: what was measured, the goal, met or missed). */
import type { RunResults } from './report.js';
import { median } from './stats.js';

export interface GoalResult {
  name: string;
  measured: string;
  goal: string;
  status: 'met' | 'missed' | 'not measured';
}

/** The value of the first metric whose name starts with `prefix`. */
export function value(results: RunResults, scenario: string, target: string, prefix: string): number | undefined {
  const metrics = results.scenarios[scenario]?.targets[target]?.metrics;
  if (!metrics) return undefined;
  const key = Object.keys(metrics).find((k) => k.startsWith(prefix));
  const v = key ? metrics[key]!.value : undefined;
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

const x = (r: number) => `${r.toFixed(2)}×`;

function ratioGoal(
  results: RunResults,
  name: string,
  scenario: string,
  prefix: string,
  a: string,
  b: string,
  goal: string,
  ok: (r: number) => boolean,
  unit = '',
): GoalResult {
  const va = value(results, scenario, a, prefix);
  const vb = value(results, scenario, b, prefix);
  if (va === undefined || vb === undefined || vb === 0) return { name, measured: '—', goal, status: 'not measured' };
  const r = va / vb;
  return { name, measured: `${x(r)} (${fmtN(va)} vs ${fmtN(vb)}${unit})`, goal, status: ok(r) ? 'met' : 'missed' };
}

function fmtN(v: number): string {
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function evaluateGoals(results: RunResults): GoalResult[] {
  const goals: GoalResult[] = [];
  // 1. Document sync latency within 1.1× of bare Hocuspocus (issue #13: 10×10 and 1×100, p50 and p99; 1×10 shown).
  const fan = results.scenarios['doc-fanout'];
  if (fan?.targets.deckhand && fan.targets.hocuspocus) {
    const ratios: string[] = [];
    let worst = 0;
    for (const cfg of ['10×10', '1×100', '1×10']) {
      for (const p of ['p50', 'p99']) {
        const d = value(results, 'doc-fanout', 'deckhand', `${cfg} latency ${p}`);
        const h = value(results, 'doc-fanout', 'hocuspocus', `${cfg} latency ${p}`);
        if (d === undefined || h === undefined) continue;
        if (cfg !== '1×10') worst = Math.max(worst, d / h);
        ratios.push(`${cfg} ${p} ${x(d / h)}`);
      }
    }
    goals.push({
      name: 'Document sync latency vs bare Hocuspocus (1a)',
      measured: ratios.join(', ') || '—',
      goal: '≤ 1.1× at 10×10 and 1×100',
      status: ratios.length ? (worst <= 1.1 ? 'met' : 'missed') : 'not measured',
    });
  }
  goals.push(
    ratioGoal(
      results,
      'Document sync CPU per update vs bare Hocuspocus (1b, at 800 updates/s)',
      'doc-rate',
      'server CPU per update @',
      'deckhand',
      'hocuspocus',
      '≤ 1.1×',
      (r) => r <= 1.1,
      ' µs',
    ),
  );
  // Issue #13: edit-to-ack p99 within bare Hocuspocus' in-memory ack p99 plus what a commit alone costs.
  const ack = value(results, 'doc-durability', 'deckhand', '100 writers (1000/s) ack p99');
  const memoryAck = value(results, 'doc-durability', 'hocuspocus', '100 writers (1000/s) ack p99');
  const commit = value(results, 'doc-durability', 'deckhand', 'reference: update-log commit p99');
  const bound = memoryAck !== undefined && commit !== undefined ? memoryAck + commit : undefined;
  goals.push({
    name: 'Durable acks: p99 edit-to-ack at 100 writers (1e)',
    measured:
      ack === undefined || bound === undefined
        ? '—'
        : `${fmtN(ack)} ms (bound ${fmtN(bound)} ms = bare Hocuspocus in memory ${fmtN(memoryAck as number)} + commit alone ${fmtN(commit as number)})`,
    goal: '≤ Hocuspocus ack p99 + commit p99',
    status: ack === undefined || bound === undefined ? 'not measured' : ack <= bound ? 'met' : 'missed',
  });
  goals.push(
    ratioGoal(
      results,
      'Update throughput vs bare Hocuspocus (1b, max sustained rate)',
      'doc-rate',
      'max sustained rate',
      'deckhand',
      'hocuspocus',
      '≥ 0.9×',
      (r) => r >= 0.9,
      ' updates/s',
    ),
  );
  goals.push(
    ratioGoal(
      results,
      'Fan-out CPU per delivery vs raw ws, all-in (2: HTTP + Postgres + Redis + fan-out)',
      'events',
      'server CPU per delivery @',
      'deckhand-ws',
      'raw-ws',
      '≤ 1.5×',
      (r) => r <= 1.5,
      ' µs',
    ),
  );
  goals.push(
    ratioGoal(
      results,
      'Fan-out CPU per delivery vs raw ws, marginal (2: the fan-out alone)',
      'events',
      'marginal server CPU per delivery',
      'deckhand-ws',
      'raw-ws',
      '≤ 1.5×',
      (r) => r <= 1.5,
      ' µs',
    ),
  );
  goals.push(
    ratioGoal(
      results,
      'Deliveries per CPU-second vs Socket.IO (2)',
      'events',
      'deliveries per server CPU-second',
      'deckhand-ws',
      'socketio',
      '≥ 2×',
      (r) => r >= 2,
    ),
  );
  // Issue #14: the multi-instance peer, Socket.IO on the Redis adapter.
  goals.push(
    ratioGoal(
      results,
      'Deliveries per CPU-second vs Socket.IO + redis-adapter (2, 100/s × 100)',
      'events',
      'deliveries per server CPU-second',
      'deckhand-ws',
      'socketio-redis',
      '≥ 1× (stretch 2×)',
      (r) => r >= 1,
    ),
  );
  goals.push(pairedIngestGoal(results));
  goals.push(
    ratioGoal(
      results,
      'Memory per idle SSE subscriber vs raw SSE (2, heap+external)',
      'events',
      'heap+external per idle subscriber',
      'deckhand-sse',
      'raw-sse',
      '≤ 2×',
      (r) => r <= 2,
      ' B',
    ),
  );
  goals.push(
    ratioGoal(
      results,
      'Memory per idle subscriber vs raw ws (2, heap+external)',
      'events',
      'heap+external per idle subscriber',
      'deckhand-ws',
      'raw-ws',
      '≤ 2×',
      (r) => r <= 2,
      ' B',
    ),
  );
  goals.push(
    ratioGoal(
      results,
      'Memory per idle subscriber vs raw ws (2, RSS)',
      'events',
      'RSS per idle subscriber',
      'deckhand-ws',
      'raw-ws',
      '≤ 2×',
      (r) => r <= 2,
      ' B',
    ),
  );
  goals.push(
    ratioGoal(
      results,
      'Memory per idle collaboration connection vs Hocuspocus (1c, heap+external)',
      'doc-memory',
      'heap+external per idle connection',
      'deckhand',
      'hocuspocus',
      '≤ 1.5×',
      (r) => r <= 1.5,
      ' B',
    ),
  );
  goals.push(
    ratioGoal(
      results,
      'Cold load vs Yjs’ own parse of the same document (1d, time to synced)',
      'cold-load',
      'time to synced',
      'deckhand',
      'yjs-parse',
      '≤ 1.5×',
      (r) => r <= 1.5,
      ' ms',
    ),
  );
  return goals;
}

/**
 * Issue #14's ingest target from the paired scenario (2c): the median of the per-round ratios Deckhand / Socket.IO +
 * redis-adapter (each round measures both on the same stretch of the machine), with the ratio of the medians.
 */
function pairedIngestGoal(results: RunResults): GoalResult {
  const name = 'Accepted progress POSTs/s vs Socket.IO + redis-adapter (2c, ingest, paired)';
  const goal = '≥ 1× (stretch 2×), median of the rounds';
  const rounds = (target: string) =>
    (results.scenarios.ingest?.targets[target]?.details as { rounds?: { round: number; postsPerS: number }[] } | undefined)?.rounds ?? [];
  const a = rounds('deckhand-ws');
  const b = rounds('socketio-redis');
  const ratios = a
    .map((w) => {
      const peer = b.find((p) => p.round === w.round);
      return peer && peer.postsPerS > 0 ? w.postsPerS / peer.postsPerS : undefined;
    })
    .filter((r): r is number => r !== undefined)
    .sort((x, y) => x - y);
  if (!ratios.length) return { name, measured: '—', goal, status: 'not measured' };
  const mid = median(ratios);
  const va = value(results, 'ingest', 'deckhand-ws', 'ingest: accepted POSTs/s');
  const vb = value(results, 'ingest', 'socketio-redis', 'ingest: accepted POSTs/s');
  const medians = va !== undefined && vb ? `; medians ${fmtN(va)} vs ${fmtN(vb)} req/s` : '';
  return {
    name,
    measured: `${x(mid)} (rounds ${ratios.map(x).join(', ')}${medians})`,
    goal,
    status: mid >= 1 ? 'met' : 'missed',
  };
}
