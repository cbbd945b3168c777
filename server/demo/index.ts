/**
 * The demo, outside production only: the page at `/` (bundled from client/demo on first request) and the dev-only
 * routes it needs — a token for a chosen name, and a simulated generation job. The dev routes exist only while this
 * server signs with its own generated dev secret (no JWT key configured): never with a configured JWT_SECRET or
 * JWT_PUBLIC_KEY, whatever NODE_ENV says (a real secret must never mint tokens for anyone who asks), never in
 * production.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { registerDemoPage } from './demo-page.js';
import { registerDevGenerationRoute } from './dev-generation-route.js';
import { registerDevTokenRoute } from './dev-token-route.js';

export function registerDemo(app: FastifyInstance): void {
  const { config } = app.deckhand;
  if (config.nodeEnv === 'production') return;
  if (signsWithGeneratedDevSecret(config)) {
    registerDevTokenRoute(app);
    registerDevGenerationRoute(app);
  }
  registerDemoPage(app);
}

/** True only for the secret this server generated for itself (auth/dev-secret.ts), never for a configured key. */
export function signsWithGeneratedDevSecret(config: Config): boolean {
  return config.nodeEnv !== 'production' && config.jwt.generated && config.jwt.publicKey === undefined && config.jwt.secret !== undefined;
}
