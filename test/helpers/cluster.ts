/**
 * Two in-process Deckhand instances as behind a load balancer: one fresh database, the run's Redis (under a key
 * prefix of their own, so files running side by side never see each other's locks, presence or events).
 */
import { inject } from 'vitest';
import { createTestDatabase } from './database.js';
import { startServer, type TestServer } from './server.js';

export interface TestPair {
  a: TestServer;
  b: TestServer;
  databaseUrl: string;
  /** Stops both (each at most once; safe after a failed start). */
  close(): Promise<void>;
}

export async function startPair(name: string, env: Record<string, string> = {}): Promise<TestPair> {
  const databaseUrl = await createTestDatabase(name);
  const shared = { DATABASE_URL: databaseUrl, REDIS_URL: inject('redisUrl'), REDIS_PREFIX: `${name}${Date.now()}`, ...env };
  const a = await startServer(shared);
  let b: TestServer;
  try {
    b = await startServer(shared);
  } catch (err) {
    await a.close();
    throw err;
  }
  return {
    a,
    b,
    databaseUrl,
    close: async () => {
      await Promise.allSettled([a.close(), b.close()]);
    },
  };
}
