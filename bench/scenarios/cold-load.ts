/**
 * 1d. Cold load of a 10 MB document from Postgres to the first client's sync. The fixture (deterministic, cached in
 * bench/.cache) is stored the way each server stores documents, the server starts with nothing in memory, and a
 * lean client opens the document: time from `new WebSocket` to the SyncStep2 fully received. The servers report
 * their own phase timings (fetch, apply, encode); "rest" is what remains (connect, auth, transfer). Repeated with
 * the document unloaded in between; medians. Wall time is what the target is about; the CPU time the server and its
 * Postgres spent over each load (against the parse's own CPU time for Yjs alone) is shown too, since it moves far
 * less when other work shares the core. With `--profile`, one CPU profile per load (cold-load-{i}).
 */
import pg from 'pg';
import { snapshotChecksum } from '../../server/store/documents.js';
import { leanClient } from '../lib/doc-clients.js';
import { cachedFixture } from '../lib/fixture.js';
import { cpuWindow, docEndpoint, metric } from '../lib/measure.js';
import type { GenContext, Metric, ScenarioOutput } from '../lib/protocol.js';
import { sleep } from '../lib/schedule.js';
import { median } from '../lib/stats.js';
import { mintToken } from '../lib/tokens.js';

const DOC = 'cold';
const OWNER = 'cold-owner';

async function store(ctx: GenContext, fixture: Uint8Array): Promise<void> {
  const client = new pg.Client({ connectionString: ctx.target.dbUrl });
  await client.connect();
  try {
    const bytes = Buffer.from(fixture);
    if (ctx.target.kind === 'deckhand') {
      await client.query(`INSERT INTO presentations (id, title, created_by) VALUES ($1, 'cold', $2) ON CONFLICT DO NOTHING`, [DOC, OWNER]);
      await client.query(`INSERT INTO presentation_members (presentation_id, user_id, role) VALUES ($1, $2, 'owner') ON CONFLICT DO NOTHING`, [
        DOC,
        OWNER,
      ]);
      // As Deckhand's compaction writes it: the snapshot with its SHA-256.
      await client.query(
        `INSERT INTO documents (name, snapshot, snapshot_sha256) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET snapshot = EXCLUDED.snapshot, snapshot_sha256 = EXCLUDED.snapshot_sha256`,
        [`presentation:${DOC}`, bytes, snapshotChecksum(bytes)],
      );
    } else if (ctx.target.kind === 'hocuspocus') {
      await client.query(`INSERT INTO hp_documents (name, data) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data`, [
        `presentation:${DOC}`,
        bytes,
      ]);
    } else {
      await client.query('DELETE FROM yws_updates WHERE name = $1', [`presentation-${DOC}`]);
      await client.query('INSERT INTO yws_updates (name, data) VALUES ($1, $2)', [`presentation-${DOC}`, bytes]);
    }
  } finally {
    await client.end();
  }
}

export async function run(ctx: GenContext): Promise<ScenarioOutput> {
  // Quick runs load a 2 MB fixture once (a smoke test); full runs the 10 MB one three times, every target alike: the
  // median is the same statistic everywhere (with two loads it was their mean, the first one in a process that had
  // never run Yjs' decoder included, against the median of three parses for Yjs alone).
  const size = ctx.quick ? 2 * 1024 * 1024 : 10 * 1024 * 1024;
  const reps = ctx.quick ? 1 : 3;
  const fixture = cachedFixture(size, 1);
  const runs: Record<string, number>[] = [];
  if (ctx.target.kind === 'yjs') {
    for (let i = 0; i < reps; i++) {
      await ctx.mark(`cold-load-${i}-start`);
      const p = (await ctx.request('parse', { bytes: size })) as Record<string, number>;
      await ctx.mark(`cold-load-${i}-end`);
      runs.push({ total: p.apply!, fetch: 0, apply: p.apply!, encode: p.encode!, rest: 0, validate: p.validate!, cpu: p.applyCpu! });
      ctx.log(
        `decode ${p.validate!.toFixed(0)} ms, parse ${p.apply!.toFixed(0)} ms (CPU ${p.applyCpu!.toFixed(0)} ms), encode ${p.encode!.toFixed(0)} ms`,
      );
    }
  } else {
    const storeStarted = performance.now();
    await store(ctx, fixture);
    ctx.log(`fixture stored in ${(performance.now() - storeStarted).toFixed(0)} ms`);
    const ep = docEndpoint(ctx);
    for (let i = 0; i < reps; i++) {
      await ctx.phases(); // clears anything recorded so far
      const before = await ctx.mark(`cold-load-${i}-start`); // with --profile: one CPU profile per load
      const started = performance.now();
      const client = leanClient({
        protocol: ep.protocol,
        url: ep.url,
        docName: ep.docName(DOC),
        token: mintToken(OWNER, undefined, ctx.target.secret),
      });
      await client.synced;
      const total = performance.now() - started;
      const after = await ctx.mark(`cold-load-${i}-end`);
      client.close();
      const window = cpuWindow(before, after);
      const cpu = (window.serverUs + window.postgresUs) / 1000;
      const p = ((await ctx.phases()) ?? {}) as Record<string, number>;
      const fetch = p.fetch ?? NaN;
      const apply = p.apply ?? NaN;
      const encode = p.encode ?? NaN;
      runs.push({ total, fetch, apply, encode, rest: total - fetch - apply - encode, cpu });
      ctx.log(
        `cold load ${total.toFixed(0)} ms (CPU ${cpu.toFixed(0)} ms, of it Postgres ${(window.postgresUs / 1000).toFixed(0)}): fetch ${fetch.toFixed(0)}, apply ${apply.toFixed(0)}, encode ${encode.toFixed(0)}`,
      );
      await sleep(1000); // the document unloads once its last client left
    }
  }
  const m = (k: string) => Math.round(median(runs.map((r) => r[k]!)));
  const metrics: Record<string, Metric> = {
    [`time to synced (${(fixture.byteLength / 1024 / 1024).toFixed(1)} MiB)`]: metric(m('total'), 'ms', 'lower'),
    'fetch (Postgres)': metric(m('fetch'), 'ms', 'lower'),
    'apply (Yjs parse + integrate)': metric(m('apply'), 'ms', 'lower'),
    'encode (SyncStep2) + hand to socket': metric(m('encode'), 'ms', 'lower'),
    'rest (connect, auth, transfer)': metric(m('rest'), 'ms', 'lower'),
    'CPU time: server + its Postgres over the load (Yjs alone: the parse)': metric(m('cpu'), 'ms', 'lower'),
  };
  if (ctx.target.kind === 'yjs') metrics['reference: Y.decodeUpdate of the same bytes (a validation pass)'] = metric(m('validate'), 'ms', 'lower');
  return { metrics, details: { runs, fixtureBytes: fixture.byteLength } };
}
