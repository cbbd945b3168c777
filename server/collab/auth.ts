/**
 * Authentication and roles on the collaboration socket (design §3), as a Hocuspocus extension.
 *
 * - onAuthenticate (per document per socket): the Hocuspocus token (else `?token=` / Authorization on the upgrade)
 *   is verified; the document must be `presentation:{id}`; the role comes from Postgres. A stranger is refused;
 *   with AUTO_CREATE_PRESENTATIONS the first opener of an unknown presentation becomes its owner. Viewers are
 *   read-only; commenters write and the write guard keeps them to `comments`.
 * - Token expiry: shortly before `exp` the server asks the provider for a fresh token (TokenSyncRequest); the
 *   provider re-runs its token function and sends it (onTokenSync). At `exp` without a fresh token the document
 *   connection is closed with AUTHENTICATION_FAILED.
 */
import type { connectedPayload, Extension, onAuthenticatePayload, onDisconnectPayload, onTokenSyncPayload } from '@hocuspocus/server';
import type { Connection } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import { errorMessage, type ErrorCode } from '../../shared/errors.js';
import { presentationIdOf } from '../../shared/presentation.js';
import { isReadOnly, roleFor } from '../access/policy.js';
import { bearerToken } from '../auth/request-token.js';
import { AuthError, type Principal, type TokenVerifier } from '../auth/jwt.js';
import type { PresentationStore, Role } from '../store/presentations.js';
import { isCollabContext, type CollabContext } from './context.js';
import type { SocketSlots } from './socket-slots.js';

/**
 * Thrown from onAuthenticate: Hocuspocus sends `reason` to the provider (its authenticationFailed event).
 * The message is left empty on purpose: Hocuspocus prints the message of a failed hook with console.error, and
 * refusals are logged here, structured, instead.
 */
class Refusal extends Error {
  constructor(
    readonly reason: ErrorCode,
    readonly detail: string,
  ) {
    super('');
  }
}

export interface CollabAuthOptions {
  verifier: TokenVerifier;
  presentations: PresentationStore;
  autoCreatePresentations: boolean;
  logger: FastifyBaseLogger;
  /** How long before `exp` the server asks for a fresh token. */
  refreshLeadMs?: number;
  /** Per-user connection slots (WEBSOCKET_MAX_CONNECTIONS_PER_USER); none means no limit. */
  slots?: SocketSlots;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export class CollabAuth implements Extension {
  priority = 900;
  extensionName = 'deckhand-auth';
  /**
   * One timer per authenticated connection (keyed by socket and document, as onDisconnect names it): it first fires
   * `refreshLeadMs` before the token expires to ask the provider for a fresh one, then, re-armed, at the expiry.
   */
  private readonly timers = new Map<string, { timer: NodeJS.Timeout | undefined }>();

  constructor(private readonly options: CollabAuthOptions) {}

  async onAuthenticate(data: onAuthenticatePayload): Promise<CollabContext> {
    try {
      return await this.authenticate(data);
    } catch (err) {
      if (err instanceof Refusal) {
        this.options.logger.info(
          { documentName: data.documentName.slice(0, 200), reason: err.reason, detail: err.detail },
          'collab connection refused',
        );
        throw err;
      }
      this.options.logger.error({ err, documentName: data.documentName.slice(0, 200) }, 'collab authentication failed');
      throw new Refusal('INTERNAL_ERROR', 'authentication failed');
    }
  }

  private async authenticate(data: onAuthenticatePayload): Promise<CollabContext> {
    const presentationId = presentationIdOf(data.documentName);
    if (!presentationId) {
      throw new Refusal('INVALID_MESSAGE', 'document name must be presentation:{id}');
    }
    const token = data.token || data.requestParameters.get('token') || bearerToken(data.requestHeaders.get('authorization'));
    let principal: Principal;
    try {
      principal = this.options.verifier.verify(token ?? '');
    } catch (err) {
      throw new Refusal('AUTHENTICATION_FAILED', err instanceof AuthError ? err.message : 'invalid token');
    }
    const role = await this.resolveRole(presentationId, principal);
    if (!role) throw new Refusal('PERMISSION_DENIED', 'not a member of this presentation');
    const socketKey = (data.context as { socketKey?: unknown } | undefined)?.socketKey;
    if (this.options.slots && typeof socketKey === 'string' && !(await this.options.slots.admit(socketKey, principal.userId))) {
      throw new Refusal('RATE_LIMIT_EXCEEDED', 'too many open collaboration connections for this user');
    }
    if (isReadOnly(role)) data.connectionConfig.readOnly = true;
    return { principal, presentationId, role };
  }

  async connected({ connection, context }: connectedPayload): Promise<void> {
    if (isCollabContext(context)) this.armExpiry(connection, context.principal);
  }

  async onTokenSync({ token, connection }: onTokenSyncPayload): Promise<void> {
    const context = connection.context as unknown;
    if (!isCollabContext(context)) return;
    let fresh: Principal;
    try {
      fresh = this.options.verifier.verify(token);
    } catch (err) {
      this.expire(connection, err instanceof AuthError ? err.message : 'invalid token');
      return;
    }
    if (fresh.userId !== context.principal.userId) {
      this.expire(connection, 'a fresh token must be for the same user');
      return;
    }
    context.principal = fresh;
    this.armExpiry(connection, fresh);
  }

  async onDisconnect({ documentName, socketId }: onDisconnectPayload): Promise<void> {
    const key = timerKey(socketId, documentName);
    clearTimeout(this.timers.get(key)?.timer);
    this.timers.delete(key);
  }

  async onDestroy(): Promise<void> {
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async resolveRole(presentationId: string, principal: Principal): Promise<Role | null> {
    const { presentations } = this.options;
    const role = await roleFor(principal, (userId) => presentations.roleOf(presentationId, userId));
    if (role || !this.options.autoCreatePresentations) return role;
    const { created } = await presentations.create(presentationId, principal.userId);
    if (created) {
      this.options.logger.info({ presentationId, userId: principal.userId }, 'presentation created on first open');
      return 'owner';
    }
    return presentations.roleOf(presentationId, principal.userId);
  }

  private armExpiry(connection: Connection, principal: Principal): void {
    const key = timerKey(connection.socketId, connection.document.name);
    const entry = this.timers.get(key) ?? { timer: undefined };
    this.timers.set(key, entry);
    const left = principal.expiresAt - Date.now();
    const lead = Math.min(this.options.refreshLeadMs ?? 30_000, left / 2);
    const arm = (delay: number, fire: () => void) => {
      clearTimeout(entry.timer);
      entry.timer = delay < MAX_TIMER_MS ? setTimeout(fire, Math.max(0, delay)) : undefined;
      entry.timer?.unref();
    };
    arm(left - lead, () => {
      connection.requestToken();
      arm(principal.expiresAt - Date.now(), () => this.expire(connection, 'token expired'));
    });
  }

  private expire(connection: Connection, message: string): void {
    const key = timerKey(connection.socketId, connection.document.name);
    clearTimeout(this.timers.get(key)?.timer);
    this.timers.delete(key);
    connection.sendStateless(JSON.stringify(errorMessage('AUTHENTICATION_FAILED', message)));
    connection.close({ code: 4401, reason: 'AUTHENTICATION_FAILED' });
  }
}

function timerKey(socketId: string, documentName: string): string {
  return `${socketId}\u0000${documentName}`;
}
