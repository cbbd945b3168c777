/**
 * The fixture of a write-guard test file: one in-process server on a database of its own, started before the file's
 * tests and stopped after them with every client they opened.
 */
import { afterAll, beforeAll } from 'vitest';
import { openClient, type CollabClient } from './collab-client.js';
import { createTestDatabase, queryDb } from './database.js';
import { mintToken, startServer, type TestServer } from './server.js';

export interface GuardServer {
  readonly server: TestServer;
  readonly databaseUrl: string;
  /** Destroyed after the file's tests. */
  readonly clients: CollabClient[];
  /** A provider of `user` (display name: the id upper-cased) on the presentation. */
  open(presentationId: string, user: string): CollabClient;
  /** Every stored log row of the presentation, concatenated as latin1 (to look for marker strings). */
  storedBytes(presentationId: string): Promise<string>;
}

/** `env`: more environment for the server (limits a test file needs lower). */
export function useGuardServer(databasePrefix: string, env: Record<string, string> = {}): GuardServer {
  let server: TestServer | undefined;
  let databaseUrl = '';
  const clients: CollabClient[] = [];
  beforeAll(async () => {
    databaseUrl = await createTestDatabase(databasePrefix);
    server = await startServer({ ...env, DATABASE_URL: databaseUrl });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('the guard server is not started yet');
      return server;
    },
    get databaseUrl() {
      return databaseUrl;
    },
    clients,
    open(presentationId, user) {
      const c = openClient({ url: this.server.wsUrl, presentationId, token: mintToken(user, { name: user.toUpperCase() }) });
      clients.push(c);
      return c;
    },
    async storedBytes(presentationId) {
      const rows = await queryDb<{ update: Buffer }>(databaseUrl, 'SELECT update FROM document_updates WHERE name = $1', [
        `presentation:${presentationId}`,
      ]);
      return Buffer.concat(rows.map((r) => r.update)).toString('latin1');
    },
  };
}
