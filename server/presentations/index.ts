/**
 * Presentations for dashboards: listing and deleting (./routes.ts, ./presentation-deletion.ts), and what follows a
 * member change (./membership-announcer.ts). Creating, reading and member management: server/routes/presentations.ts.
 */
export { MembershipAnnouncer, type MemberChange } from './membership-announcer.js';
export { PresentationDeletion } from './presentation-deletion.js';
export { registerPresentationDashboardRoutes } from './routes.js';
