/**
 * `GET /metrics`: Prometheus text from this app's registry. Needs a token with scope `metrics:read` or `admin`
 * (Prometheus sends it with `authorization: {credentials: …}` in the scrape config). Not rate limited.
 */
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import type { TokenVerifier } from '../auth/jwt.js';
import type { Metrics } from '../metrics.js';

export function registerMetricsRoute(app: FastifyInstance, deps: { verifier: TokenVerifier; metrics: Metrics }): void {
  const registry = deps.metrics.registry;
  app.get(
    '/metrics',
    {
      // Rate limited like every route that takes a token (a scraper's few requests a minute are far below the limit).
      onRequest: requireScope(deps.verifier, 'metrics:read'),
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (token with scope metrics:read or admin)',
        response: {
          200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
          401: ErrorResponseSchema,
          403: ErrorResponseSchema,
        },
      },
    },
    async (_request, reply) => {
      const body = await registry.metrics();
      return reply.header('content-type', registry.contentType).send(body);
    },
  );
}
