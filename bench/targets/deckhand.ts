/**
 * Deckhand as deployed: the real `build(config)` app (auth, guard, awareness stamping, durable appends to Postgres,
 * locks, presence, the realtime app), configured from the environment the runner sets (NODE_ENV=production,
 * JWT_SECRET, AUTO_CREATE_PRESENTATIONS=true, DATABASE_URL, REDIS_URL when the scenario needs the bus), logging off.
 * Only additions: cold-load phase timers (hooks that run first/last, and a timer around the store's load query).
 */
import { build } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import type { DocumentStore } from '../../server/store/documents.js';
import { instrumentPhases } from './phases.js';
import { PhaseClock, serve } from './runtime.js';

const config = loadConfig(process.env);
const app = await build(config, { logger: false });
const clock = new PhaseClock();
const { collab } = app.deckhand;
instrumentPhases(collab.hocuspocus, clock);
const store = (collab.persistence as unknown as { options: { store: DocumentStore } }).options.store;
const load = store.load.bind(store);
store.load = async (name: string) => {
  const started = performance.now();
  try {
    return await load(name);
  } finally {
    clock.add('fetch', performance.now() - started);
  }
};

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
serve({
  port: typeof address === 'object' && address ? address.port : 0,
  close: () => app.close(),
  stats: () => ({ updateLog: collab.updateLog.stats, persistence: collab.persistence.stats, writePath: collab.writePath.stats }),
  phases: () => {
    const d = clock.take();
    return { fetch: d.fetch ?? 0, apply: (d.load ?? 0) - (d.fetch ?? 0), encode: d.encode ?? 0 };
  },
});
