/**
 * The documents feature's core service: who may read and write a presentation's document as JSON, the live
 * document of this instance (loaded through a Hocuspocus direct connection, so it is the same document the Yjs
 * editors of this instance share, kept in step with other instances by the Redis extension), and applying a batch
 * of operations:
 *
 * 1. checked whole against the document and the writer's lock rule (./plan.ts): a refusal changes nothing;
 * 2. applied as one server transaction (./apply.ts): Yjs editors and JSON clients see it at once;
 * 3. appended to the Postgres update log, awaited: the returned promise resolves only once it is durable.
 */
import type { Document } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import type { DocumentJson } from '../../shared/document-json.js';
import type { Operation } from '../../shared/operations.js';
import { documentJsonOf, documentName } from '../../shared/presentation.js';
import { can, documentRoleFor, type Action } from '../access/policy.js';
import type { Principal } from '../auth/jwt.js';
import type { CollabService } from '../collab/index.js';
import { DomainError } from '../errors.js';
import type { PresentationStore, Role } from '../store/presentations.js';
import { applyAsTransaction } from './apply.js';
import { PartialChangeError, type OperationAuthor } from './origin.js';
import { planOperations, type KnownText, type PlannedAction, type WriteRules } from './plan.js';

export interface DocumentServiceDeps {
  collab: CollabService;
  presentations: PresentationStore;
  logger: FastifyBaseLogger;
  /** Unknown presentations are created for their first user (AUTO_CREATE_PRESENTATIONS), as on /collab. */
  autoCreatePresentations: boolean;
}

/** A live document held open on this instance; `release` when done. */
export interface DocumentHandle {
  document: Document;
  release(): Promise<void>;
}

interface Held {
  opening: Promise<{ document: Document; disconnect: () => Promise<void> }>;
  refs: number;
}

export class DocumentService {
  private readonly held = new Map<string, Held>();
  readonly stats = { batches: 0, operations: 0, refused: 0 };

  constructor(private readonly deps: DocumentServiceDeps) {}

  /**
   * The principal's role on the presentation, when it may do `action` there. Throws NOT_FOUND (no such
   * presentation) or PERMISSION_DENIED. With `create`, an unknown presentation is created for the principal when
   * AUTO_CREATE_PRESENTATIONS is on (the JSON socket, as /collab).
   */
  async authorize(principal: Principal, presentationId: string, action: Action, create = false): Promise<Role> {
    const { presentations } = this.deps;
    let { role, viaScope } = await documentRoleFor(principal, (userId) => presentations.roleOf(presentationId, userId));
    if (role === null && create && this.deps.autoCreatePresentations && !viaScope) {
      const { created } = await presentations.create(presentationId, principal.userId);
      role = created ? 'owner' : await presentations.roleOf(presentationId, principal.userId);
    }
    if (role === null || viaScope) {
      if (!(await presentations.get(presentationId))) throw new DomainError('NOT_FOUND', `presentation ${presentationId} not found`);
    }
    if (role === null) throw new DomainError('PERMISSION_DENIED', 'not a member of this presentation');
    if (!can(role, action)) {
      throw new DomainError('PERMISSION_DENIED', action === 'edit' ? `a ${role} cannot edit the document` : `a ${role} cannot ${action} here`);
    }
    return role;
  }

  /** Holds the presentation's live document open on this instance (loading it when needed). */
  async open(presentationId: string): Promise<DocumentHandle> {
    let held = this.held.get(presentationId);
    if (!held) {
      const opening = this.deps.collab.hocuspocus.openDirectConnection(documentName(presentationId), { documents: true }).then((connection) => ({
        document: connection.document as Document,
        // Keep it warm a little (Hocuspocus' debounced store), so a burst of REST batches loads it once.
        disconnect: () => connection.disconnect({ unloadImmediately: false }),
      }));
      held = { opening, refs: 0 };
      this.held.set(presentationId, held);
      opening.catch(() => {
        if (this.held.get(presentationId) === held) this.held.delete(presentationId);
      });
    }
    held.refs++;
    const entry = held;
    let opened: { document: Document; disconnect: () => Promise<void> };
    try {
      opened = await entry.opening;
    } catch (err) {
      entry.refs--;
      this.deps.logger.warn({ err, presentationId }, 'could not load a document');
      throw new DomainError('INTERNAL_ERROR', 'the document could not be loaded: try again later');
    }
    let released = false;
    return {
      document: opened.document,
      release: async () => {
        if (released) return;
        released = true;
        if (--entry.refs > 0) return;
        if (this.held.get(presentationId) === entry) this.held.delete(presentationId);
        await opened.disconnect().catch((err: unknown) => this.deps.logger.warn({ err, presentationId }, 'could not release a document'));
      },
    };
  }

  /** The plain JSON document as this instance has it now. */
  async read(presentationId: string): Promise<DocumentJson> {
    const handle = await this.open(presentationId);
    try {
      return documentJsonOf(handle.document);
    } finally {
      await handle.release();
    }
  }

  /** What `userId` may not touch: slides locked by other users (the lock cache the write guard reads too). */
  rulesFor(presentationId: string, userId: string): WriteRules {
    const lockedByOthers = new Map<string, string>();
    for (const lock of this.deps.collab.locks.cached(presentationId)) if (lock.userId !== userId) lockedByOthers.set(lock.slideId, lock.name);
    return { lockedByOthers };
  }

  /**
   * Applies `operations` to the open document as one transaction, all or nothing, at once (Yjs editors and JSON
   * clients see it now); `stored` resolves once the change is in Postgres. Throws a DomainError when the batch is
   * refused (nothing applied); `stored` rejects with one when the change could not be stored.
   */
  applyLive(
    presentationId: string,
    document: Document,
    operations: readonly Operation[],
    author: OperationAuthor,
    known?: KnownText,
  ): { actions: PlannedAction[]; stored: Promise<void> } {
    let actions: PlannedAction[];
    try {
      actions = planOperations(document, operations, this.rulesFor(presentationId, author.userId), undefined, known);
    } catch (err) {
      this.stats.refused++;
      throw err;
    }
    let update: Uint8Array | null;
    try {
      update = applyAsTransaction(document, actions, author);
    } catch (err) {
      // A bug, not a refusal: what was applied before it is on every replica now, so it is stored all the same.
      this.deps.logger.error({ err, presentationId }, 'operations failed part way');
      if (err instanceof PartialChangeError && err.update) void this.store(presentationId, document.name, err.update).catch(() => undefined);
      throw new DomainError('INTERNAL_ERROR', 'the operations could not be applied');
    }
    this.stats.batches++;
    this.stats.operations += operations.length;
    return { actions, stored: update ? this.store(presentationId, document.name, update) : Promise.resolve() };
  }

  private store(presentationId: string, name: string, update: Uint8Array): Promise<void> {
    return this.deps.collab.persistence.appendServerUpdate(name, update).catch((err: unknown) => {
      this.deps.logger.error({ err, presentationId, bytes: update.byteLength }, 'operations applied but not stored yet');
      throw new DomainError(
        'SERVICE_UNAVAILABLE',
        'the store is unavailable: the operations are applied but not stored yet; they are stored once the store is back (read the document before retrying)',
      );
    });
  }

  /** applyLive, resolved once stored. */
  async apply(presentationId: string, document: Document, operations: readonly Operation[], author: OperationAuthor): Promise<PlannedAction[]> {
    const { actions, stored } = this.applyLive(presentationId, document, operations, author);
    await stored;
    return actions;
  }

  /** Authorizes, opens, applies and releases: the REST path. */
  async applyAs(principal: Principal, presentationId: string, operations: readonly Operation[]): Promise<PlannedAction[]> {
    await this.authorize(principal, presentationId, 'edit');
    const handle = await this.open(presentationId);
    try {
      return await this.apply(presentationId, handle.document, operations, { userId: principal.userId });
    } finally {
      await handle.release();
    }
  }
}
