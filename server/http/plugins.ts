/**
 * The HTTP layer every route shares, registered in order: error mapping; the WebSocket plugin (whose preClose is
 * shutdown phase 1, ../lifecycle.ts); one onRequest hook for the security and CORS headers that answers preflights
 * (./response-headers.ts); the HTTP rate limit, a global onRequest hook, so it runs after the preflights and before
 * every route's own hooks (authentication) and the body (./rate-limit.ts; counted in this process, and synced through
 * Redis when there is one: ../limits/http-rate-sync.ts); and the OpenAPI description at /docs.
 *
 * The WebSocket plugin comes first because its onRequest hook marks an upgrade request (`request.ws`), and only a
 * marked request's socket is closed after a plain HTTP answer: Node no longer reads a socket it handed to the
 * 'upgrade' listener, so an upgrade answered 204 by a preflight or 429 by the rate limit before the mark stayed open
 * for good (test/http/edge-upgrades.test.ts).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Lifecycle } from '../lifecycle.js';
import { HttpRateLimit, LocalRateCounts, type HttpRateSync } from '../limits/index.js';
import { registerErrorHandling } from './errors.js';
import { registerHttpRateLimit } from './rate-limit.js';
import { registerResponseHeaders } from './response-headers.js';

export interface HttpPluginDeps {
  config: Config;
  /** The rate limit's shared counts (with Redis); without, it counts in this process. */
  httpRate: HttpRateSync | undefined;
  lifecycle: Lifecycle;
}

export async function registerHttpPlugins(app: FastifyInstance, { config, httpRate, lifecycle }: HttpPluginDeps): Promise<void> {
  registerErrorHandling(app);
  await app.register(websocket, {
    options: {
      maxPayload: Math.max(config.limits.collabMaxFrameBytes, config.limits.wsMaxFrameBytes),
      perMessageDeflate: false,
    },
    // Replaces the plugin's default preClose: shutdown phase 1 (../lifecycle.ts).
    preClose: async function preClose(this: FastifyInstance) {
      await lifecycle.closeConnections(this);
    },
  });
  registerResponseHeaders(app, { helmet: { contentSecurityPolicy: false, crossOriginEmbedderPolicy: false }, corsOrigins: config.corsOrigins });
  const counts = httpRate ?? new LocalRateCounts();
  registerHttpRateLimit(app, new HttpRateLimit(counts, config.limits.httpRateMax, config.limits.httpRateWindowMs));
  await app.register(swagger, {
    openapi: {
      info: { title: 'Deckhand API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
