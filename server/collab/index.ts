/**
 * The collaboration service: a Hocuspocus core (not its Server class) with Deckhand's extensions, and its shutdown.
 * The WebSocket route that feeds it lives in ./route.ts.
 */
import type { Hocuspocus, Connection, Extension } from '@hocuspocus/server';
import type { WebSocket } from 'ws';
import { Redis as RedisExtension } from '@hocuspocus/extension-redis';
import type { FastifyBaseLogger } from 'fastify';
import { CLOSE_CODES, errorMessage } from '../../shared/errors.js';
import { documentName } from '../../shared/presentation.js';
import type { TokenVerifier } from '../auth/jwt.js';
import type { Config } from '../config.js';
import { createRedisClient } from '../redis.js';
import { DocumentStore } from '../store/documents.js';
import type { Db } from '../store/db.js';
import type { PresentationStore, Role } from '../store/presentations.js';
import { isReadOnly } from '../access/policy.js';
import { CollabAuth } from './auth.js';
import { AwarenessStamp } from './awareness.js';
import { isCollabContext } from './context.js';
import { OffThreadMerge } from './off-thread-merge.js';
import { PostgresPersistence } from './persistence.js';
import { guardUnawaitedRedisPromises } from './redis-client-guard.js';
import { resyncLoadedDocuments, watchReconnects } from './redis-resync.js';
import { withSafeUnawaitedHooks } from './safe-hooks.js';
import type { Bus } from '../bus/types.js';
import { LockExtension } from './locks/lock-extension.js';
import { LockService } from './locks/lock-service.js';
import type { LockStore } from './locks/lock-store.js';
import { MembershipSync } from './membership-sync.js';
import { PresentationClosing, type PresentationClosedListener } from './presentation-closing.js';
import type { ConnectionCounter } from '../limits/index.js';
import { SocketSlots } from './socket-slots.js';
import type { PresenceStore } from './presence/presence-store.js';
import { PresenceTracker } from './presence/presence-tracker.js';
import { DocumentClientStore } from '../store/document-clients.js';
import { ClientOwners } from './client-owners.js';
import { InflightBudget } from './inflight.js';
import type { LockTarget } from './locks/lock-store.js';
import { lockTargetOf } from './locks/slide-ref.js';
import { UpdateLog } from './update-log.js';
import type { ActivityRecorder } from '../activity/index.js';
import { WritePath } from './write-path.js';
import { AckGate } from './ack-gate.js';
import { UndurableRepair } from './undurable-repair.js';
import { MessageHooks, type ChangeObserver } from './message-hooks.js';
import { DeckhandHocuspocus } from './store-scheduling.js';

/** Hocuspocus does not export the class it returns from handleConnection. */
export type ClientConnection = ReturnType<Hocuspocus['handleConnection']>;

export interface CollabDeps {
  config: Config;
  db: Db;
  verifier: TokenVerifier;
  presentations: PresentationStore;
  logger: FastifyBaseLogger;
  bus: Bus;
  lockStore: LockStore;
  presenceStore: PresenceStore;
  /** Per-user connection counter (shared with the realtime endpoints); none means no per-user limit. */
  connections?: ConnectionCounter;
  /** Extensions added by later features (locks, presence): the seam for the write guard. */
  extensions?: Extension[];
  /** Features that follow every applied change, called from the one onChange hook (./message-hooks.ts). */
  changeObservers?: ChangeObserver[];
  /** Where lock changes are recorded (server/activity). */
  activity?: ActivityRecorder;
}

export interface CollabService {
  hocuspocus: Hocuspocus;
  persistence: PostgresPersistence;
  updateLog: UpdateLog;
  /** Per-user socket slots; the route releases a socket's slots when it closes. */
  slots: SocketSlots | undefined;
  /** Set when shutdown begins: new sockets are turned away with 1012. */
  closing: boolean;
  /** Open /collab sockets and their Hocuspocus connections, closed with "server shutting down" on shutdown. */
  sockets: Map<WebSocket, ClientConnection>;
  locks: LockService;
  /** The slide to lock (an existing slide of the document, loaded from the store when not in memory), or null. */
  lockTarget(presentationId: string, slideId: string): Promise<LockTarget | null>;
  /** Bytes of frames waiting per socket (the route admits each frame). */
  inflight: InflightBudget;
  /** Validation, the write guard's decision, the append and the apply of every client update. */
  writePath: WritePath;
  /** The acknowledgements waiting for their commit (./ack-gate.ts). */
  ackGate: AckGate;
  /** Who owns each client id of the loaded documents, and the claims refused past a user's cap. */
  clientOwners: ClientOwners;
  presence: PresenceTracker;
  /** Applies a role change (or revocation, role = null) to this instance's open connections. */
  applyRoleChange(presentationId: string, userId: string, role: Role | null): number;
  /** Announces a role change to every instance (each applies it to its own connections). */
  publishRoleChange(presentationId: string, userId: string, role: Role | null): Promise<void>;
  /** Every connection of a presentation's document on this instance. */
  connectionsOf(presentationId: string): Connection[];
  /**
   * Closes every connection to the presentation's document, on every instance (a deleted presentation): each is
   * told NOT_FOUND, then closed; then each instance's `onPresentationClosed` listeners run.
   */
  closePresentation(presentationId: string): Promise<void>;
  /** Called on this instance after it closed a presentation's connections (whichever instance asked). */
  onPresentationClosed(listener: PresentationClosedListener): () => void;
  /** Closes sockets, flushes appends and stores, unloads documents: bounded by `deadline` (ms since epoch). */
  shutdown(deadline: number): Promise<{ documentsLeft: number; appendsLeft: number }>;
}

export function createCollab(deps: CollabDeps): CollabService {
  const { config, db, logger } = deps;
  const store = new DocumentStore(db);
  const updateLog = new UpdateLog(store, {
    maxQueuedBytes: config.collabAppendQueueBytes,
    onRetry: (err, attempt, rows) => logger.warn({ err, attempt, rows }, 'update append failed, retrying'),
    onGiveUp: (err, documents, rows) =>
      logger.error(
        { err, documents, rows },
        'updates could not be stored before shutdown; they were not acknowledged, so their clients keep them and resend on reconnect',
      ),
  });
  const gate = new AckGate({
    log: updateLog,
    timeoutMs: config.collabAckTimeoutMs,
    onTimeout: (documentName, heldMs) =>
      logger.warn({ documentName, heldMs }, 'an acknowledgement waited too long for its commit: socket closed (1013), the client resends'),
  });
  const merger = new OffThreadMerge();
  const persistence = new PostgresPersistence({
    store,
    log: updateLog,
    logger,
    compactAfterUpdates: config.compactAfterUpdates,
    ackTimeoutMs: config.collabAckTimeoutMs,
    merger,
  });
  const slots = deps.connections ? new SocketSlots(deps.connections) : undefined;
  let hocuspocusRef: Hocuspocus | undefined;
  const locks = new LockService({ store: deps.lockStore, bus: deps.bus, ttlMs: config.lockTtlMs, limits: config.lockLimits, logger });
  const inflight = new InflightBudget(config.limits.collabMaxInflightBytes);
  const owners = new ClientOwners(new DocumentClientStore(db), config.clientIdClaims, logger);
  const writePath = new WritePath({
    log: updateLog,
    persistence,
    owners,
    locks,
    gate,
    maxUnackedBytes: config.limits.collabMaxInflightBytes,
    logger,
  });
  const presence = new PresenceTracker(deps.presenceStore, deps.bus, logger);
  const membership = new MembershipSync(deps.bus, (id, user, role) => applyRoleChange(id, user, role), logger);
  const closing = new PresentationClosing(deps.bus, () => hocuspocusRef as Hocuspocus, logger);
  const lockExtension = new LockExtension(locks, logger, deps.activity);
  // The per-message hooks of every feature, in one extension (one hook chain per message, not one per feature).
  // It catches its own onChange errors, so it is not wrapped below.
  const awareness = new AwarenessStamp(owners);
  const messageHooks = new MessageHooks({
    writePath,
    awareness,
    persistence,
    locks: lockExtension,
    inflight,
    changeObservers: deps.changeObservers ?? [],
    logger,
  });
  const extensions: Extension[] = [
    persistence,
    new UndurableRepair(updateLog, logger),
    new CollabAuth({
      slots,
      verifier: deps.verifier,
      presentations: deps.presentations,
      autoCreatePresentations: config.autoCreatePresentations,
      logger,
    }),
    awareness,
    owners,
    lockExtension,
    inflight,
    membership,
    presence,
    ...(deps.extensions ?? []),
  ];
  let redisExtension: RedisExtension | undefined;
  if (config.redisUrl) {
    const url = config.redisUrl;
    const watch = watchReconnects(() => {
      if (redisExtension && hocuspocusRef) resyncLoadedDocuments(hocuspocusRef, redisExtension, logger);
    });
    redisExtension = new RedisExtension({
      createClient: () => guardUnawaitedRedisPromises(watch(createRedisClient(url, 'collab')), logger),
      prefix: `${config.redisPrefix}:collab`,
    });
    extensions.push(redisExtension);
  }

  const hocuspocus = new DeckhandHocuspocus({
    name: 'deckhand',
    quiet: true,
    extensions: [messageHooks, ...extensions.map((e) => withSafeUnawaitedHooks(e, logger))],
    // Appends already made every acknowledged edit durable. Client changes schedule no store (./store-scheduling.ts);
    // the debounced store keeps a document a direct connection left warm (server/documents) in memory a while.
    debounce: 2000,
    maxDebounce: 10_000,
  });
  hocuspocusRef = hocuspocus;
  closing.start().catch((err: unknown) => logger.warn({ err }, 'could not follow closed presentations yet (retried on the next close)'));
  const sockets = new Map<WebSocket, ClientConnection>();

  function connectionsOf(presentationId: string): Connection[] {
    return hocuspocus.documents.get(documentName(presentationId))?.getConnections() ?? [];
  }

  function applyRoleChange(presentationId: string, userId: string, role: Role | null): number {
    let affected = 0;
    for (const connection of connectionsOf(presentationId)) {
      const context = connection.context as unknown;
      if (!isCollabContext(context) || context.principal.userId !== userId) continue;
      affected++;
      if (role === null) {
        connection.sendStateless(JSON.stringify(errorMessage('PERMISSION_DENIED', 'your access was revoked')));
        connection.close({ code: 4403, reason: 'PERMISSION_DENIED' });
      } else {
        context.role = role;
        connection.readOnly = isReadOnly(role);
      }
    }
    return affected;
  }

  return {
    slots,
    closing: false,
    hocuspocus,
    persistence,
    updateLog,
    sockets,
    connectionsOf,
    locks,
    async lockTarget(presentationId, slideId) {
      const name = documentName(presentationId);
      const loaded = hocuspocus.documents.get(name);
      if (loaded && !loaded.isLoading) return lockTargetOf(loaded, slideId);
      const direct = await hocuspocus.openDirectConnection(name, {});
      try {
        return direct.document ? lockTargetOf(direct.document, slideId) : null;
      } finally {
        await direct.disconnect();
      }
    },
    inflight,
    writePath,
    ackGate: gate,
    clientOwners: owners,
    presence,
    applyRoleChange,
    closePresentation: (presentationId) => closing.close(presentationId),
    onPresentationClosed: (listener) => closing.onClosed(listener),
    async publishRoleChange(presentationId, userId, role) {
      try {
        await membership.publish(presentationId, { user_id: userId, role });
      } catch (err) {
        // The bus is down: at least this instance's connections follow the change.
        logger.warn({ err, presentationId }, 'could not publish a role change; applied on this instance only');
        applyRoleChange(presentationId, userId, role);
      }
    },
    async shutdown(deadline) {
      const remaining = () => Math.max(0, deadline - Date.now());
      // Close every socket and release its documents now, without waiting for each peer's close handshake.
      for (const [socket, client] of sockets) {
        socket.close(CLOSE_CODES.SERVER_SHUTDOWN.code, CLOSE_CODES.SERVER_SHUTDOWN.reason);
        client.handleClose({ code: CLOSE_CODES.SERVER_SHUTDOWN.code, reason: CLOSE_CODES.SERVER_SHUTDOWN.reason });
      }
      sockets.clear();
      // Appends in flight finish (or retry) while there is time; then retries stop.
      const stopRetrying = setTimeout(() => updateLog.close(), Math.max(0, remaining() - 500));
      await Promise.race([updateLog.drain(), sleep(remaining())]);
      hocuspocus.flushPendingStores();
      while (hocuspocus.getDocumentsCount() > 0 && remaining() > 0) {
        hocuspocus.flushPendingStores();
        await sleep(Math.min(25, remaining()));
      }
      clearTimeout(stopRetrying);
      updateLog.close();
      await locks.close();
      await closing.stop();
      await Promise.race([Promise.all([updateLog.drain(), persistence.drain()]), sleep(remaining())]);
      await merger.close();
      await Promise.race([
        hocuspocus.hooks('onDestroy', { instance: hocuspocus }).catch((err: unknown) => {
          logger.warn({ err }, 'collaboration extension failed to stop');
        }),
        sleep(Math.max(100, remaining())),
      ]);
      return { documentsLeft: hocuspocus.getDocumentsCount(), appendsLeft: updateLog.pending };
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
