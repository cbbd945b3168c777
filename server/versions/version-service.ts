/**
 * Versions of presentations: take one (named, automatic or the backup before a restore), list them,
 * read one as plain JSON, restore one as a forward change to the live document.
 *
 * Snapshots come from the database (./durable-state.ts). A restore is serialized per presentation on this instance:
 * open the live document (a Hocuspocus direct connection, which loads it if no one has it open), refuse it with
 * LOCKED if it would change a slide another user holds, take the backup version, apply the change (./live-restore.ts),
 * append it to the update log and wait for that, then record the activity.
 */
import type { Hocuspocus } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import { documentName } from '../../shared/presentation.js';
import type { RestoreResult, VersionDocument, VersionList, VersionSummary } from '../../shared/versions.js';
import type { ActivityRecorder, Actor } from '../activity/index.js';
import type { Principal } from '../auth/jwt.js';
import type { DocumentStore } from '../store/documents.js';
import { decodeSnapshot, plainDocument, readDurableState } from './durable-state.js';
import { DomainError } from '../errors.js';
import { applyRestore, lockedByOthers, PartialRestoreError, refuseIfLocked, type SlideLockInfo } from './live-restore.js';
import type { VersionStore } from './version-store.js';

export interface VersionServiceDeps {
  store: VersionStore;
  documents: DocumentStore;
  hocuspocus: Hocuspocus;
  /** Appends a server-made update to the document's log; resolves once it is durable. */
  append(documentName: string, update: Uint8Array): Promise<void>;
  /** Current slide locks of a presentation, across instances. */
  locks(presentationId: string): Promise<SlideLockInfo[]>;
  activity: ActivityRecorder;
  logger: FastifyBaseLogger;
}

type User = Pick<Principal, 'userId' | 'name'>;

export class VersionService {
  /** The tail of each presentation's restore queue on this instance. */
  private readonly queues = new Map<string, Promise<unknown>>();
  readonly stats = { created: 0, automatic: 0, restored: 0, refused: 0 };

  constructor(private readonly deps: VersionServiceDeps) {}

  /** A named (or unnamed) version of the document as the database holds it now. */
  async create(presentationId: string, user: User, label: string | null): Promise<VersionSummary> {
    const version = await this.take(presentationId, 'manual', label, user);
    await this.recordCreated(version, user);
    return version;
  }

  /**
   * An automatic version, unless the document is unchanged since the latest version or another instance took one
   * less than `minAgeMs` ago. Returns null when skipped.
   */
  async createAutomatic(presentationId: string, minAgeMs: number): Promise<VersionSummary | null> {
    const state = await readDurableState(this.deps.documents, presentationId, this.onBadRow(presentationId));
    const version = await this.deps.store.insertIfChanged({ presentationId, kind: 'automatic', label: null, createdBy: null, ...state }, minAgeMs);
    if (version) {
      this.stats.automatic++;
      await this.recordCreated(version, null);
    }
    return version;
  }

  async list(presentationId: string, limit: number, cursor?: string): Promise<VersionList> {
    const { versions, nextCursor } = await this.deps.store.list(presentationId, limit, cursor);
    return { versions, next_cursor: nextCursor };
  }

  async document(presentationId: string, versionId: string): Promise<VersionDocument> {
    return plainDocument((await this.get(presentationId, versionId)).snapshot);
  }

  async restore(presentationId: string, versionId: string, user: User): Promise<RestoreResult> {
    return this.serialized(presentationId, async () => {
      const version = await this.get(presentationId, versionId);
      const target = decodeSnapshot(version.snapshot);
      const name = documentName(presentationId);
      const connection = await this.deps.hocuspocus.openDirectConnection(name, { versions: 'restore', userId: user.userId });
      let backup: VersionSummary | undefined;
      try {
        const live = connection.document;
        if (!live) throw new DomainError('INTERNAL_ERROR', 'the document could not be opened');
        // Checked before the backup is taken, so a refused restore leaves no trace; checked again (synchronously
        // with the change) after it, in case a lock was taken meanwhile.
        refuseIfLocked(live, target, lockedByOthers(await this.deps.locks(presentationId), user.userId));
        backup = await this.take(presentationId, 'backup', `Before restoring ${version.label ?? version.created_at}`, user);
        const locked = lockedByOthers(await this.deps.locks(presentationId), user.userId);
        let update: Uint8Array | null;
        try {
          update = applyRestore(live, target, locked, { restore: versionId, userId: user.userId });
        } catch (err) {
          if (!(err instanceof PartialRestoreError)) throw err;
          this.deps.logger.error({ err: err.cause, presentationId, versionId }, 'a restore failed part way; storing what it changed');
          if (err.update) await this.appendDurably(name, err.update);
          throw new DomainError('INTERNAL_ERROR', 'the restore failed part way; restore the backup version to undo it', {
            backup_version_id: backup.version_id,
          });
        }
        if (update) await this.appendDurably(name, update);
      } catch (err) {
        if (err instanceof DomainError && err.code === 'LOCKED') this.stats.refused++;
        if (backup && err instanceof DomainError && err.code === 'LOCKED') await this.discard(backup);
        throw err;
      } finally {
        target.destroy();
        // Not awaited: closing runs the store hooks, which with Redis wait for peers (seconds); the change is
        // already durable and broadcast.
        void connection
          .disconnect()
          .catch((err: unknown) => this.deps.logger.warn({ err, presentationId }, 'could not close the restore connection'));
      }
      this.stats.restored++;
      await this.deps.activity.record(presentationId, 'version.restored', user, {
        version_id: version.version_id,
        label: version.label,
        backup_version_id: backup.version_id,
      });
      return { restored: version.version_id, backup_version_id: backup.version_id };
    });
  }

  private async get(presentationId: string, versionId: string) {
    const version = await this.deps.store.get(presentationId, versionId);
    if (!version) throw new DomainError('NOT_FOUND', `version ${versionId} not found`);
    return version;
  }

  private async take(presentationId: string, kind: 'manual' | 'backup', label: string | null, user: User): Promise<VersionSummary> {
    const state = await readDurableState(this.deps.documents, presentationId, this.onBadRow(presentationId));
    const version = await this.deps.store.insert({ presentationId, kind, label, createdBy: { userId: user.userId, name: user.name }, ...state });
    this.stats.created++;
    return version;
  }

  private async recordCreated(version: VersionSummary, actor: Actor): Promise<void> {
    await this.deps.activity.record(version.presentation_id, 'version.created', actor, {
      version_id: version.version_id,
      label: version.label,
      kind: version.kind,
    });
  }

  private async appendDurably(name: string, update: Uint8Array): Promise<void> {
    try {
      await this.deps.append(name, update);
    } catch (err) {
      // Applied and broadcast, not durable yet: the update log keeps retrying it (and replicas hold it), but the
      // caller must not be told it is safe.
      this.deps.logger.error({ err, documentName: name }, 'a restore was applied but is not stored yet');
      throw new DomainError(
        'SERVICE_UNAVAILABLE',
        'the store is unavailable: the restore is applied but not stored yet; it is stored once the store is back',
      );
    }
  }

  private async discard(backup: VersionSummary): Promise<void> {
    await this.deps.store.delete(backup.version_id).catch((err: unknown) => {
      this.deps.logger.warn({ err, versionId: backup.version_id }, 'could not delete the backup of a refused restore');
    });
  }

  private serialized<T>(presentationId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(presentationId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    this.queues.set(presentationId, tail);
    void tail.then(() => {
      if (this.queues.get(presentationId) === tail) this.queues.delete(presentationId);
    });
    return run;
  }

  private onBadRow(presentationId: string) {
    return (row: number, err: unknown) => this.deps.logger.error({ presentationId, row, err }, 'a version skipped an undecodable stored update');
  }
}
