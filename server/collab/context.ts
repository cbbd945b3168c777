import type { Principal } from '../auth/jwt.js';
import type { Role } from '../store/presentations.js';

/** What Deckhand keeps on every Hocuspocus connection's context once it is authenticated. */
export interface CollabContext {
  principal: Principal;
  presentationId: string;
  role: Role;
}

export function isCollabContext(value: unknown): value is CollabContext {
  return typeof value === 'object' && value !== null && 'principal' in value && 'presentationId' in value;
}
