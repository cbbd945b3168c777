import type { Config } from '../config.js';
import type { Db } from './db.js';
import { migrate } from './migrate.js';
import { createPgDb } from './pg.js';
import { createPgliteDb } from './pglite.js';

/** Opens Postgres when DATABASE_URL is set, else PGlite in DATA_DIR, and applies pending migrations. */
export async function openStore(config: Config): Promise<Db> {
  const db = config.databaseUrl
    ? createPgDb({ connectionString: config.databaseUrl, max: config.databasePoolSize })
    : await createPgliteDb(config.dataDir);
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  return db;
}
