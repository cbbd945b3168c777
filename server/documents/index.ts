/**
 * The presentation document as JSON (issue #16): the operations API and `GET …/document` (./routes.ts), the JSON
 * collaboration socket, and the slide-order migration that runs when a document loads. Built by the composition
 * root (server/app.ts): the migration is one of the collaboration extensions, the service needs the collaboration
 * service.
 */
export { AwarenessRelay } from './awareness-relay.js';
export { DocumentBridges } from './bridges.js';
export { DocumentService } from './document-service.js';
export { registerDocumentRoutes } from './routes.js';
export { SlideOrderMigration } from './slide-order-migration.js';
