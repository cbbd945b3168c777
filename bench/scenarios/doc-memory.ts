/**
 * 1c. Memory of a collaboration server: (1) 1,000 idle clients over 100 documents (10 each; real providers, which
 * also announce themselves in awareness), bytes per connection; (2) 50 loaded documents of ~200 KB each (the
 * deterministic fixture, sent by one lean client per document and acknowledged), bytes per document after
 * subtracting one connection each. Memory is the target process after full GCs: RSS, and V8 heap + external.
 */
import { leanClient, providerClient, type DocClient, type ProviderClient } from '../lib/doc-clients.js';
import { presentationsWithEditors } from '../lib/deckhand-setup.js';
import { cachedFixture } from '../lib/fixture.js';
import { docEndpoint, metric } from '../lib/measure.js';
import type { GenContext, MemoryUsage, Metric, ScenarioOutput } from '../lib/protocol.js';
import { pool, sleep, until } from '../lib/schedule.js';

const js = (m: MemoryUsage) => m.heapUsed + m.external;

export async function run(ctx: GenContext): Promise<ScenarioOutput> {
  const docs = ctx.quick ? 10 : 100;
  const perDoc = 10;
  const loadedDocs = ctx.quick ? 5 : 50;
  const settle = ctx.quick ? 200 : 1000;
  const ep = docEndpoint(ctx);
  const decks = Array.from({ length: docs }, (_, d) => ({
    id: `idle-${d}`,
    owner: `m${d}-0`,
    editors: Array.from({ length: perDoc - 1 }, (_, c) => `m${d}-${c + 1}`),
  }));
  const heavy = Array.from({ length: loadedDocs }, (_, d) => ({ id: `heavy-${d}`, owner: `h${d}`, editors: [] as string[] }));
  if (ep.needsMembers) await presentationsWithEditors(ctx.target, [...decks, ...heavy]);
  const fixture = cachedFixture(200 * 1024, 2);

  await sleep(settle);
  const base = await ctx.memory();
  const clients: ProviderClient[] = [];
  const all = decks.flatMap((deck) => [deck.owner, ...deck.editors].map((user) => ({ deck, user })));
  await pool(all, 50, async ({ deck, user }) => {
    const c = providerClient({ protocol: ep.protocol, url: ep.url, docName: ep.docName(deck.id), token: ep.token(user) });
    clients.push(c);
    await c.synced;
  });
  await sleep(settle); // awareness settles
  const idle = await ctx.memory();
  const n = clients.length;
  const perConnRss = (idle.rss - base.rss) / n;
  const perConnJs = (js(idle) - js(base)) / n;
  ctx.log(`${n} idle: ${(perConnRss / 1024).toFixed(1)} KiB RSS, ${(perConnJs / 1024).toFixed(1)} KiB heap+external per connection`);
  for (const c of clients) c.destroy();
  await sleep(settle);

  const before = await ctx.memory();
  const loaders: DocClient[] = [];
  await pool(heavy, 10, async (deck) => {
    const c = leanClient({ protocol: ep.protocol, url: ep.url, docName: ep.docName(deck.id), token: ep.token(deck.owner) });
    loaders.push(c);
    await c.synced;
    if (ep.protocol === 'hocuspocus') await until(() => c.acks >= 1, 10_000, 'handshake ack');
    c.sendUpdate(fixture);
    if (ep.protocol === 'hocuspocus') await until(() => c.acks >= 2, 30_000, 'fixture ack');
    else await until(() => c.bufferedAmount === 0, 30_000, 'fixture sent');
  });
  await sleep(settle);
  const loaded = await ctx.memory();
  const perDocRss = (loaded.rss - before.rss) / loadedDocs - perConnRss;
  const perDocJs = (js(loaded) - js(before)) / loadedDocs - perConnJs;
  ctx.log(`${loadedDocs} loaded: ${(perDocRss / 1024).toFixed(0)} KiB RSS, ${(perDocJs / 1024).toFixed(0)} KiB heap+external per document`);
  for (const c of loaders) c.close();
  await sleep(500);

  const metrics: Record<string, Metric> = {
    [`RSS per idle connection (${n} over ${docs} docs)`]: metric(Math.round(perConnRss), 'bytes', 'lower'),
    'heap+external per idle connection': metric(Math.round(perConnJs), 'bytes', 'lower'),
    [`RSS per loaded document (${(fixture.byteLength / 1024).toFixed(0)} KiB encoded, ×${loadedDocs})`]: metric(
      Math.round(perDocRss),
      'bytes',
      'lower',
    ),
    'heap+external per loaded document': metric(Math.round(perDocJs), 'bytes', 'lower'),
  };
  return { metrics, details: { base, idle, before, loaded, connections: n, fixtureBytes: fixture.byteLength } };
}
