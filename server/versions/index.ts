/**
 * Versions, one Fastify plugin (the REST routes). The service and the automatic-version extension are built by the
 * composition root (server/app.ts): the extension must join the collaboration server's extensions before it starts,
 * and the service needs that server.
 */
import type { FastifyInstance } from 'fastify';
import { registerVersionRoutes, type VersionRoutesDeps } from './routes.js';

export { AutoVersions } from './auto-versions.js';
export { VersionService, type VersionServiceDeps } from './version-service.js';
export { VersionStore } from './version-store.js';

export async function versionsPlugin(app: FastifyInstance, options: VersionRoutesDeps): Promise<void> {
  registerVersionRoutes(app, options);
}
