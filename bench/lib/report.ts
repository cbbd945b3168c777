/** Results → markdown: one table per scenario (each target's figure and Deckhand/peer ratios), then the goals. */
import type { ScenarioOutput } from './protocol.js';
import { TARGETS } from './targets.js';
import { SCENARIOS } from '../scenarios/registry.js';
import { evaluateGoals } from './goals.js';

export interface TargetResult extends ScenarioOutput {
  error?: string;
}

export interface RunResults {
  startedAt: string;
  quick: boolean;
  node: string;
  cpus: string[];
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  durationS: number;
  scenarios: Record<string, { targets: Record<string, TargetResult> }>;
}

export function fmt(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  if (abs >= 100_000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '—';
  return `${(a / b).toFixed(2)}×`;
}

export function renderMarkdown(results: RunResults): string {
  const lines: string[] = [];
  lines.push(`# Deckhand benchmarks — ${results.quick ? 'quick' : 'full'} run`);
  lines.push('');
  lines.push(
    `${results.startedAt} · Node ${results.node} · ${results.cpus.length} × ${results.cpus[0] ?? '?'} · ${results.durationS} s · load average before/after: ${results.loadAverageBefore.map((l) => l.toFixed(2)).join(' ')} / ${results.loadAverageAfter.map((l) => l.toFixed(2)).join(' ')}`,
  );
  lines.push('');
  lines.push(
    'Server under test + its Postgres + Redis on CPU 0, one load generator on CPU 1 (taskset). Other work shares this 2-core machine, so absolute numbers are noisy: compare the ratios, which come from the same run under the same load. "Server CPU" is the server process plus its Postgres and Redis (from /proc/{pid}/stat). ⚠ marks a figure measured while the generator used more than 85 % of its core.',
  );
  lines.push('');
  if (results.quick) {
    lines.push(
      '**Quick run: a smoke test, not a measurement.** Deckhand against its main peer only, 0.6 s warm-ups, 1 s windows, 100 idle clients, 200 subscribers, a 2 MB cold-load fixture. Run `npm run bench` for the figures.',
    );
    lines.push('');
  }
  const goals = evaluateGoals(results);
  if (goals.length) {
    lines.push('## Targets');
    lines.push('');
    lines.push('| target | measured | goal | status |');
    lines.push('|---|---|---|---|');
    for (const g of goals)
      lines.push(
        `| ${g.name} | ${g.measured} | ${g.goal} | ${g.status === 'met' ? '✅ met' : g.status === 'missed' ? '❌ missed' : '— not measured'} |`,
      );
    lines.push('');
  }
  // Display order 1a…1e, 2 (the run order starts with memory, while the servers are fresh).
  for (const scenario of [...SCENARIOS].sort((a, b) => a.title.localeCompare(b.title))) {
    const r = results.scenarios[scenario.id];
    if (!r) continue;
    const targetIds = scenario.targets.filter((t) => r.targets[t]);
    lines.push(`## ${scenario.title}`);
    lines.push('');
    lines.push(scenario.description);
    lines.push('');
    const keys: string[] = [];
    for (const t of targetIds) for (const k of Object.keys(r.targets[t]!.metrics)) if (!keys.includes(k)) keys.push(k);
    const ratios = scenario.ratios.filter(([a, b]) => r.targets[a] && r.targets[b]);
    const header = ['metric', ...targetIds.map((t) => TARGETS[t]!.label), ...ratios.map(([a, b]) => `${TARGETS[a]!.label} / ${TARGETS[b]!.label}`)];
    lines.push(`| ${header.join(' | ')} |`);
    lines.push(`|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
    for (const key of keys) {
      const unit = targetIds.map((t) => r.targets[t]!.metrics[key]?.unit).find(Boolean) ?? '';
      const cells = targetIds.map((t) => {
        const m = r.targets[t]!.metrics[key];
        return m ? `${fmt(m.value)}${m.flags?.length ? ' ⚠' : ''}` : '—';
      });
      const ratioCells = ratios.map(([a, b]) => ratio(r.targets[a]!.metrics[key]?.value, r.targets[b]!.metrics[key]?.value));
      lines.push(`| ${[`${key}${unit ? ` (${unit})` : ''}`, ...cells, ...ratioCells].join(' | ')} |`);
    }
    for (const t of targetIds) {
      const res = r.targets[t]!;
      if (res.error) lines.push(`\n**${TARGETS[t]!.label} failed:** ${res.error.split('\n')[0]}`);
      for (const note of res.notes ?? []) lines.push(`\n${TARGETS[t]!.label}: ${note}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
