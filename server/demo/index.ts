/**
 * The demo, outside production only: the page at `/` (bundled from client/demo on first request) and the dev-only
 * routes it needs — a token for a chosen name, and a simulated generation job. The dev routes exist only when this
 * server signs its own tokens (JWT_SECRET, or the generated dev secret): never with JWT_PUBLIC_KEY, never in
 * production.
 */
import type { FastifyInstance } from 'fastify';
import { registerDemoPage } from './demo-page.js';
import { registerDevGenerationRoute } from './dev-generation-route.js';
import { registerDevTokenRoute } from './dev-token-route.js';

export function registerDemo(app: FastifyInstance): void {
  const { config } = app.deckhand;
  if (config.nodeEnv === 'production') return;
  if (config.jwt.secret !== undefined && config.jwt.publicKey === undefined) {
    registerDevTokenRoute(app);
    registerDevGenerationRoute(app);
  }
  registerDemoPage(app);
}
