// Runs the TypeScript worker when the server runs from source (npm start, the tests): a worker does not inherit the
// parent's TypeScript loader on Node 20, so it registers tsx itself. A build runs compaction-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./compaction-worker.ts', import.meta.url).href);
