/**
 * The cold-load baseline: no server, just Yjs. Pinned to the server's core like the servers; every `parse`
 * request decodes the fixture of the given size (`Y.decodeUpdate`, a validation pass), parses it into a fresh Y.Doc
 * (`Y.applyUpdate`) and encodes it back (`Y.encodeStateAsUpdate`, what a server does to answer a client's
 * SyncStep1), and reports the three times (and the CPU time of the parse).
 */
import * as Y from 'yjs';
import { cachedFixture } from '../lib/fixture.js';
import { serve } from './runtime.js';

serve({
  port: 0,
  close: async () => {},
  custom: {
    parse: ({ bytes }) => {
      const fixture = cachedFixture(Number(bytes), 1);
      // What validating the bytes first costs (Deckhand decodes every stored part before applying it).
      let started = performance.now();
      Y.decodeUpdate(fixture);
      const validate = performance.now() - started;
      started = performance.now();
      const cpuBefore = process.cpuUsage();
      const doc = new Y.Doc();
      Y.applyUpdate(doc, fixture);
      const apply = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      const applyCpu = (cpu.user + cpu.system) / 1000;
      started = performance.now();
      Y.encodeStateAsUpdate(doc);
      const encode = performance.now() - started;
      doc.destroy();
      return { fetch: 0, apply, encode, validate, applyCpu };
    },
  },
});
