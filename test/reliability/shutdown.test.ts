import { afterAll, describe, expect, it } from 'vitest';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { insertSlide } from '../../shared/presentation.js';
import { waitFor } from '../helpers/collab-client.js';
import { createTestDatabase, queryDb } from '../helpers/database.js';
import { mintToken, startServerProcess, type ServerProcess } from '../helpers/server.js';

const DOCUMENTS = 200;

describe('graceful shutdown under load', () => {
  let server: ServerProcess | undefined;
  const sockets: HocuspocusProviderWebsocket[] = [];
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await server?.kill9();
  });

  it(`stores all ${DOCUMENTS} loaded documents and exits within SHUTDOWN_TIMEOUT_MS`, async () => {
    const databaseUrl = await createTestDatabase('shutdown');
    server = await startServerProcess({ DATABASE_URL: databaseUrl, SHUTDOWN_TIMEOUT_MS: '10000', LOG_LEVEL: 'warn' });
    // 200 documents over 4 sockets (providers share a socket, as the SDK does).
    const providers: HocuspocusProvider[] = [];
    const docs: Y.Doc[] = [];
    for (let s = 0; s < 4; s++) {
      const socket = new HocuspocusProviderWebsocket({ url: server.wsUrl, WebSocketPolyfill: WebSocket, maxAttempts: 1 });
      sockets.push(socket);
      for (let d = s; d < DOCUMENTS; d += 4) {
        const doc = new Y.Doc();
        const provider = new HocuspocusProvider({
          websocketProvider: socket,
          name: `presentation:load-${d}`,
          document: doc,
          token: mintToken('alice'),
        });
        provider.attach();
        providers[d] = provider;
        docs[d] = doc;
      }
    }
    await waitFor(() => providers.every((p) => p.isSynced), 60_000, 'all documents synced');
    docs.forEach((doc, d) => insertSlide(doc, { id: `slide-${d}`, title: `document ${d}` }));
    await waitFor(() => providers.every((p) => !p.hasUnsyncedChanges), 60_000, 'all edits acknowledged');

    // Pending work at SIGTERM: every document is loaded, its debounced store not yet run, its log not compacted.
    const { code, ms } = await server.terminate();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);

    const snapshots = await queryDb<{ name: string; snapshot: Buffer }>(
      databaseUrl,
      'SELECT name, snapshot FROM documents WHERE snapshot IS NOT NULL',
    );
    expect(snapshots).toHaveLength(DOCUMENTS);
    expect(await queryDb(databaseUrl, 'SELECT seq FROM document_updates')).toHaveLength(0);
    for (const { name, snapshot } of snapshots) {
      const d = Number(name.split('-')[1]);
      const doc = new Y.Doc();
      Y.applyUpdate(doc, snapshot);
      expect(doc.getArray<Y.Map<unknown>>('slides').get(0).get('id')).toBe(`slide-${d}`);
    }
  });
});
