/**
 * The HTTP layer every route shares, registered in order: error mapping, security and CORS headers with the preflights
 * (one hook: ./response-headers.ts), the HTTP rate limit
 * (counted in this process and synced through Redis when there is one: ../limits/http-rate-sync.ts), the OpenAPI
 * description at /docs, and the WebSocket plugin (whose preClose is shutdown phase 1, ../lifecycle.ts).
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Lifecycle } from '../lifecycle.js';
import { httpRateStore, type HttpRateSync } from '../limits/index.js';
import { registerErrorHandling } from './errors.js';
import { registerResponseHeaders } from './response-headers.js';

export interface HttpPluginDeps {
  config: Config;
  /** The rate limit's shared counts (with Redis); without, @fastify/rate-limit's in-process store. */
  httpRate: HttpRateSync | undefined;
  lifecycle: Lifecycle;
}

export async function registerHttpPlugins(app: FastifyInstance, { config, httpRate, lifecycle }: HttpPluginDeps): Promise<void> {
  registerErrorHandling(app);
  registerResponseHeaders(app, { helmet: { contentSecurityPolicy: false, crossOriginEmbedderPolicy: false }, corsOrigins: config.corsOrigins });
  await app.register(rateLimit, {
    global: true,
    max: config.limits.httpRateMax,
    timeWindow: config.limits.httpRateWindowMs,
    ...(httpRate ? { store: httpRateStore(httpRate) } : {}),
    skipOnError: true,
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      type: 'error',
      error_code: 'RATE_LIMIT_EXCEEDED',
      message: `rate limit exceeded, retry in ${ctx.after}`,
      timestamp: new Date().toISOString(),
    }),
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Deckhand API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
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
}
