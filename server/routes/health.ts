/** `GET /health` (liveness) and `GET /health/ready` (store and bus answer within 2 s). */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

export interface ReadinessCheck {
  name: string;
  /** Resolves when healthy; 'disabled' when the dependency is not configured. */
  check: () => Promise<'ok' | 'disabled'>;
}

const CHECK_TIMEOUT_MS = 2000;

async function run(check: ReadinessCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check.check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    return `error: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

const HealthResponse = Type.Object({
  status: Type.String(),
  timestamp: Type.String(),
  checks: Type.Optional(Type.Record(Type.String(), Type.String())),
});

export function registerHealthRoutes(app: FastifyInstance, checks: ReadinessCheck[]): void {
  app.get(
    '/health',
    { schema: { tags: ['operations'], summary: 'Liveness', response: { 200: HealthResponse } }, config: { rateLimit: false } },
    async () => ({ status: 'ok', timestamp: new Date().toISOString() }),
  );
  app.get(
    '/health/ready',
    {
      schema: { tags: ['operations'], summary: 'Readiness: store and bus checked', response: { 200: HealthResponse, 503: HealthResponse } },
      config: { rateLimit: false },
    },
    async (_request, reply) => {
      const results = await Promise.all(checks.map(async (c) => [c.name, await run(c)] as const));
      const ok = results.every(([, r]) => r === 'ok' || r === 'disabled');
      return reply
        .status(ok ? 200 : 503)
        .send({ status: ok ? 'ok' : 'unavailable', timestamp: new Date().toISOString(), checks: Object.fromEntries(results) });
    },
  );
}
