/**
 * A presentation over the JSON collaboration socket, for front-ends without Yjs: a local JSON copy of the document
 * (shared/document-json.ts) kept in step by applying every `edit_operation`, operations sent with `apply` (a promise
 * that resolves once the server stored it: `edit_ack`), the users present with their slides and carets, the locks,
 * and reconnection: after a drop it reconnects with backoff and starts again from the fresh `connected` document.
 *
 * The copy changes only when the server says so (each operation, the caller's own included, comes back as
 * `edit_operation`), so it always equals the server's document as of the last message. An operation not yet
 * acknowledged when the connection drops is rejected (it may or may not have been applied: look at the document).
 */
import type { CollaborationUser } from '../../shared/collaboration-messages.js';
import { applyOperation, type DocumentJson } from '../../shared/document-json.js';
import type { SlideLock } from '../../shared/locks.js';
import type { AppliedOperation, Operation, SlideField } from '../../shared/operations.js';
import type { PresenceStatus } from '../../shared/presence.js';
import { Backoff, sleep } from '../backoff.js';
import type { ClientContext } from '../context.js';
import { Emitter } from '../emitter.js';
import { DeckhandError } from '../errors.js';
import { randomId } from '../random-id.js';
import { resolveToken } from '../token.js';
import { runWebSocket } from '../live/websocket-connection.js';

export type JsonPresentationStatus = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface CursorPlace {
  slide_id: string | null;
  field: SlideField | null;
  index: number | null;
}

interface Events {
  /** The document changed: a new copy from `connected`, or one operation applied (with who made it). */
  change: { document: DocumentJson; operation: AppliedOperation | null; userId: string | null };
  users: CollaborationUser[];
  cursor: { userId: string; cursor: CursorPlace };
  locks: SlideLock[];
  status: JsonPresentationStatus;
  error: DeckhandError;
}

interface Pending {
  message: { type: 'edit_operation'; operation: Operation };
  resolve(): void;
  reject(error: DeckhandError): void;
  sent: boolean;
}

type Json = Record<string, unknown>;

export class JsonPresentation {
  /** The document as of the last message (null until the first `connected`). */
  document: DocumentJson | null = null;
  locks: SlideLock[] = [];
  status: JsonPresentationStatus = 'connecting';
  private readonly users = new Map<string, CollaborationUser>();
  private readonly events = new Emitter<Events>();
  private readonly pending = new Map<string, Pending>();
  private readonly stop = new AbortController();
  private send: ((message: object) => boolean) | undefined;
  /** Ends the current connection (to resynchronize), not the presentation. */
  private connection: AbortController | undefined;
  private readyWaiters: (() => void)[] = [];

  constructor(
    private readonly ctx: ClientContext,
    readonly id: string,
  ) {
    void this.run();
  }

  /** Everyone present (Yjs editors and JSON clients), one entry per user. */
  get present(): CollaborationUser[] {
    return [...this.users.values()];
  }

  /** Resolves once a document copy is there (at once when it is). */
  whenReady(): Promise<void> {
    if (this.document) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Sends an operation; resolves once the server stored it, rejects with the server's refusal (nothing applied). */
  apply(operation: Operation): Promise<void> {
    if (this.status === 'closed') return Promise.reject(new DeckhandError('CONFLICT', `presentation ${this.id} is closed`));
    const operationId = operation.operation_id ?? `op-${randomId()}`;
    return new Promise((resolve, reject) => {
      const entry: Pending = {
        message: { type: 'edit_operation', operation: { ...operation, operation_id: operationId } },
        resolve,
        reject,
        sent: false,
      };
      this.pending.set(operationId, entry);
      if (this.status === 'connected') this.transmit(entry);
    });
  }

  setPresence(presence: { slide_id?: string | null; status?: PresenceStatus }): void {
    this.send?.({ type: 'presence_update', ...presence });
  }

  /** A caret at plain-text `index` of a slide field (slide null: none). */
  setCursor(slideId: string | null, field: SlideField | null = null, index: number | null = null): void {
    this.send?.({ type: 'cursor_update', slide_id: slideId, field, index });
  }

  lock(slideId: string): void {
    this.send?.({ type: 'lock_slide', slide_id: slideId });
  }

  unlock(slideId: string): void {
    this.send?.({ type: 'unlock_slide', slide_id: slideId });
  }

  onChange(listener: (change: Events['change']) => void): () => void {
    return this.events.on('change', listener);
  }
  onUsers(listener: (users: CollaborationUser[]) => void): () => void {
    return this.events.on('users', listener);
  }
  onCursor(listener: (cursor: Events['cursor']) => void): () => void {
    return this.events.on('cursor', listener);
  }
  onLocks(listener: (locks: SlideLock[]) => void): () => void {
    return this.events.on('locks', listener);
  }
  onStatus(listener: (status: JsonPresentationStatus) => void): () => void {
    return this.events.on('status', listener);
  }
  /** Errors not tied to an operation (those reject the operation's promise). */
  onError(listener: (error: DeckhandError) => void): () => void {
    return this.events.on('error', listener);
  }

  close(): void {
    if (this.status === 'closed') return;
    this.stop.abort();
    this.setStatus('closed');
    this.failPending(new DeckhandError('CONFLICT', `presentation ${this.id} is closed`));
    this.events.clear();
  }

  private async run(): Promise<void> {
    const backoff = new Backoff(this.ctx.backoff);
    const path = `/api/v1/realtime/collaboration/${encodeURIComponent(this.id)}`;
    while (!this.stop.signal.aborted) {
      let token: string;
      try {
        token = await resolveToken(this.ctx.token);
      } catch (err) {
        this.events.emit('error', new DeckhandError('AUTHENTICATION_FAILED', `could not get a token: ${(err as Error).message}`));
        await sleep(backoff.next(), this.stop.signal);
        continue;
      }
      const connection = new AbortController();
      const stopConnection = () => connection.abort();
      this.stop.signal.addEventListener('abort', stopConnection, { once: true });
      this.connection = connection;
      const outcome = await runWebSocket(
        this.ctx,
        path,
        token,
        {
          opened: (send) => {
            this.send = send;
            backoff.reset();
          },
          message: (message) => this.receive(message),
          error: (error) => this.receiveError(error),
        },
        connection.signal,
      );
      this.stop.signal.removeEventListener('abort', stopConnection);
      this.send = undefined;
      if (this.stop.signal.aborted) return;
      const resync = connection.signal.aborted;
      this.setStatus('disconnected');
      this.failPending(new DeckhandError('INTERNAL_ERROR', 'the connection dropped before the operation was acknowledged: check the document'), true);
      if (outcome.fatal) {
        this.events.emit('error', outcome.fatal);
        this.close();
        return;
      }
      await sleep(resync || (outcome.authFailed && outcome.opened) ? 0 : backoff.next(), this.stop.signal);
      this.setStatus('connecting');
    }
  }

  private receive(message: Json): void {
    switch (message.type) {
      case 'connected':
        this.document = message.document as DocumentJson;
        this.locks = (message.locks as SlideLock[]) ?? [];
        this.users.clear();
        for (const user of (message.users as CollaborationUser[]) ?? []) this.users.set(user.user_id, user);
        this.setStatus('connected');
        for (const resolve of this.readyWaiters.splice(0)) resolve();
        this.events.emit('change', { document: this.document, operation: null, userId: null });
        this.events.emit('users', this.present);
        this.events.emit('locks', this.locks);
        for (const entry of this.pending.values()) if (!entry.sent) this.transmit(entry);
        return;
      case 'edit_operation':
        this.applyRemote(message.operation as AppliedOperation, typeof message.user_id === 'string' ? message.user_id : null);
        return;
      case 'edit_ack': {
        const id = message.operation_id;
        const entry = typeof id === 'string' ? this.pending.get(id) : undefined;
        if (entry) this.pending.delete(id as string);
        entry?.resolve();
        return;
      }
      case 'user_joined':
      case 'presence_update': {
        const { type: _type, timestamp: _timestamp, ...user } = message;
        this.users.set(user.user_id as string, user as unknown as CollaborationUser);
        this.events.emit('users', this.present);
        return;
      }
      case 'user_left':
        this.users.delete(message.user_id as string);
        this.events.emit('users', this.present);
        return;
      case 'cursor_update':
        this.events.emit('cursor', {
          userId: message.user_id as string,
          cursor: {
            slide_id: (message.slide_id as string | null) ?? null,
            field: (message.field as SlideField | null) ?? null,
            index: (message.index as number | null) ?? null,
          },
        });
        return;
      case 'locks':
        this.locks = Array.isArray(message.locks) ? (message.locks as SlideLock[]) : [];
        this.events.emit('locks', this.locks);
        return;
    }
  }

  private applyRemote(operation: AppliedOperation, userId: string | null): void {
    if (!this.document) return;
    try {
      applyOperation(this.document, operation);
    } catch {
      // Out of step (should not happen): start again from a fresh `connected`.
      this.events.emit('error', new DeckhandError('CONFLICT', 'the local copy went out of step: resynchronizing'));
      this.send = undefined;
      this.connection?.abort();
      return;
    }
    this.events.emit('change', { document: this.document, operation, userId });
  }

  private receiveError(error: DeckhandError): void {
    const id = (error.details as { operation_id?: unknown } | undefined)?.operation_id;
    const entry = typeof id === 'string' ? this.pending.get(id) : undefined;
    if (entry) {
      this.pending.delete(id as string);
      entry.reject(error);
    } else {
      this.events.emit('error', error);
    }
  }

  private transmit(entry: Pending): void {
    if (this.send?.(entry.message)) entry.sent = true;
  }

  /** Rejects waiting operations: all of them, or (onlySent) those already sent, whose fate is unknown. */
  private failPending(error: DeckhandError, onlySent = false): void {
    for (const [id, entry] of this.pending) {
      if (onlySent && !entry.sent) continue;
      this.pending.delete(id);
      entry.reject(error);
    }
  }

  private setStatus(status: JsonPresentationStatus): void {
    if (this.status === status || this.status === 'closed') return;
    this.status = status;
    this.events.emit('status', status);
  }
}
