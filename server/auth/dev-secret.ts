/**
 * Outside production, a missing JWT key means a generated dev secret. It is kept in DATA_DIR so that the server and
 * `npm run token` agree on it across restarts. Never used in production (config refuses to start there without a key).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';

export const DEV_SECRET_FILE = '.dev-jwt-secret';

export function resolveDevSecret(config: Config): Config {
  if (!config.jwt.generated || config.jwt.secret) return config;
  const path = join(config.dataDir, DEV_SECRET_FILE);
  let secret: string;
  try {
    secret = readFileSync(path, 'utf8').trim();
  } catch {
    secret = randomBytes(32).toString('base64url');
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  }
  return { ...config, jwt: { ...config.jwt, secret } };
}
