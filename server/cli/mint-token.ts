/**
 * `npm run token -- <user-id> [--name NAME] [--scope "a b"] [--ttl SECONDS]`: mints an HS256 token with the
 * configured JWT_SECRET, or the dev secret in DATA_DIR. Prints only the token, so it can be captured: TOKEN=$(...).
 */
import { parseArgs } from 'node:util';
import { resolveDevSecret } from '../auth/dev-secret.js';
import { createTokenVerifier } from '../auth/jwt.js';
import { ConfigError, loadConfig } from '../config.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string' },
    scope: { type: 'string' },
    ttl: { type: 'string', default: '86400' },
  },
});
const userId = positionals[0];
const ttl = Number(values.ttl);
if (!userId || !Number.isInteger(ttl) || ttl <= 0) {
  console.error('usage: npm run token -- <user-id> [--name NAME] [--scope "jobs:write notifications:write admin"] [--ttl SECONDS]');
  process.exit(2);
}
try {
  const config = resolveDevSecret(loadConfig());
  if (!config.jwt.secret) throw new Error('npm run token needs JWT_SECRET (HS256); with JWT_PUBLIC_KEY, mint tokens with your issuer');
  const claims: { sub: string; name: string; scope?: string } = { sub: userId, name: values.name ?? userId };
  if (values.scope) claims.scope = values.scope;
  console.log(createTokenVerifier(config.jwt).sign(claims, ttl));
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : (err as Error).message);
  process.exit(1);
}
