/**
 * Process entry point: load config, build the app, listen, and shut down gracefully on SIGTERM/SIGINT within
 * SHUTDOWN_TIMEOUT_MS (close-with-grace exits non-zero if shutdown overruns).
 */
import closeWithGrace from 'close-with-grace';
import { build } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { routeConsoleToLogger } from './console-to-log.js';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

const app = await build(config);
// From here on, libraries' console.error / console.warn (Hocuspocus) are structured log lines too.
routeConsoleToLogger(app.log);

process.on('unhandledRejection', (err) => {
  // Hocuspocus hooks that are not awaited upstream must never kill the process; log and go on.
  app.log.error({ err }, 'unhandled rejection');
});

closeWithGrace({ delay: config.shutdownTimeoutMs, logger: app.log }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'fatal error, shutting down');
  app.log.info({ signal }, 'shutting down: closing sockets and flushing documents');
  await app.close();
  app.log.info('shutdown complete');
});

const address = await app.listen({ port: config.port, host: config.host });
const base = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
const { deckhand } = app;
const lines = [
  `Deckhand listening on ${base}`,
  ...(config.nodeEnv !== 'production' ? [`  demo           ${base}/  (open it in two windows with two names)`] : []),
  `  collaboration  ${base.replace(/^http/, 'ws')}/api/v1/collab`,
  `  API docs       ${base}/docs`,
  `  health         ${base}/health  ${base}/health/ready`,
  `  store          ${deckhand.db.kind === 'pglite' ? `PGlite in ${config.dataDir}` : 'Postgres (DATABASE_URL)'}`,
  `  bus            ${config.redisUrl ? 'Redis (REDIS_URL)' : 'in-process'}`,
];
if (config.nodeEnv !== 'production' && config.jwt.generated) {
  lines.push(
    '',
    `No JWT key configured: using a dev secret kept in ${config.dataDir}/.dev-jwt-secret.`,
    'Mint a token with:  npm run token -- alice            (a user)',
    '                    npm run token -- worker --scope "jobs:write notifications:write"',
  );
}
console.log(lines.join('\n'));
