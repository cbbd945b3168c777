/**
 * Holds each SyncStatus (the acknowledgement a provider counts its unsynced changes by) until what it acknowledges
 * is in Postgres. Updates are applied and broadcast at once (./write-path.ts queues their append and returns); the
 * ack Hocuspocus sends right after applying is caught here, on the connection's `send`, and released when the update
 * log has committed everything the document held at that moment (`UpdateLog.requiredFor`): the update itself, any
 * rollback the guard made for it, and whatever it may build on, edits of other clients and other instances included.
 *
 * Acks leave in the order Hocuspocus made them, per connection. One still waiting after `timeoutMs` (Postgres is down
 * or slow) closes its connection's socket with 1013: the provider reconnects with backoff and re-sends what was not
 * acknowledged, while the log keeps retrying the appends.
 *
 * `unackedBytes` is the flow control, per socket (the documents it multiplexes share it): the write path makes a
 * connection wait before its next update while the updates its socket has waiting for an ack (each counted with
 * ACK_COST_BYTES more) pass a bound, so one fast writer cannot fill the log's queue nor the held acks.
 */
import type { Connection } from '@hocuspocus/server';
import { CLOSE_CODES } from '../../shared/errors.js';
import type { UpdateLog } from './update-log.js';

/** Hocuspocus' message type of a SyncStatus (y-protocols has no constant for it). */
const SYNC_STATUS = 8;

/**
 * What an ack costs in flow control on top of its update's bytes: the held message and its entry, and the log's
 * entry (./update-log.ts). Without it, empty or tiny updates would let one connection hold acks without bound.
 */
export const ACK_COST_BYTES = 256;

interface HeldAck {
  connection: Connection;
  message: Uint8Array;
  required: number;
  since: number;
  /** Update bytes this ack releases from the connection's unacked total. */
  bytes: number;
  /** Delivered or dropped (it may still be in an array being walked): never counted off twice. */
  settled?: boolean;
}

/** Flow control is per socket: the documents it multiplexes share one budget. */
interface SocketBudget {
  unackedBytes: number;
  /** Waiters to check again when acks leave (or are dropped). */
  drained: Array<() => void>;
}

interface ConnectionState {
  send: (message: Uint8Array) => void;
  /** Length of the encoded message address: a SyncStatus is that plus two bytes. */
  addressBytes: number;
  held: number;
  socket: SocketBudget;
  /** Bytes of the update whose ack Hocuspocus sends next on this connection. */
  nextAckBytes: number;
}

export interface AckGateOptions {
  log: UpdateLog;
  /** An ack held longer than this closes its socket with 1013. */
  timeoutMs: number;
  onTimeout?: (documentName: string, heldMs: number) => void;
}

export class AckGate {
  private held: HeldAck[] = [];
  private readonly states = new WeakMap<Connection, ConnectionState>();
  /** Per socket (Hocuspocus gives every document connection of a socket the same `webSocket`). */
  private readonly sockets = new WeakMap<object, SocketBudget>();
  private timer: NodeJS.Timeout | undefined;
  readonly stats = { held: 0, timedOut: 0 };

  constructor(private readonly options: AckGateOptions) {
    options.log.onCommitted((committed) => this.release(committed));
  }

  /** Routes the connection's acks through the gate (once per connection). */
  watch(connection: Connection): void {
    if (this.states.has(connection)) return;
    let socket = this.sockets.get(connection.webSocket);
    if (!socket) {
      socket = { unackedBytes: 0, drained: [] };
      this.sockets.set(connection.webSocket, socket);
    }
    const state: ConnectionState = {
      send: connection.send.bind(connection),
      addressBytes: encodedStringLength(connection.messageAddress),
      held: 0,
      socket,
      nextAckBytes: 0,
    };
    this.states.set(connection, state);
    connection.send = (message: Uint8Array) => {
      if (message.byteLength === state.addressBytes + 2 && message[state.addressBytes] === SYNC_STATUS) this.ack(connection, state, message);
      else state.send(message);
    };
    // Closed (the document connection, or its socket): nothing it counted against its socket's budget may linger,
    // not even the ack of an update Hocuspocus failed to apply (the socket may stay open for other documents).
    connection.onClose(() => {
      this.forgo(state, state.nextAckBytes);
      state.nextAckBytes = 0;
      this.dropHeld(connection, state);
    });
  }

  /**
   * The next ack on `connection` is for an update of `bytes` bytes (0: nothing applied): it counts as unacked, with
   * ACK_COST_BYTES, until it leaves.
   */
  expectAck(connection: Connection, bytes: number): void {
    const state = this.states.get(connection);
    if (!state) return;
    state.socket.unackedBytes += bytes + ACK_COST_BYTES;
    state.nextAckBytes += bytes + ACK_COST_BYTES;
  }

  /** Resolves once the unacked bytes of the connection's socket are at most `bytes` (or the connection closed). */
  whenUnackedAtMost(connection: Connection, bytes: number): Promise<void> | undefined {
    const socket = this.states.get(connection)?.socket;
    if (!socket || socket.unackedBytes <= bytes) return undefined;
    return new Promise<void>((resolve) => {
      const check = () => {
        if (socket.unackedBytes <= bytes || isClosed(connection)) resolve();
        else socket.drained.push(check);
      };
      socket.drained.push(check);
    });
  }

  /**
   * The connection's client starts a sync (SyncStep1). A provider counts its unsynced changes from 1 again then, and
   * answers the server's SyncStep1 with a SyncStep2 whose ack waits until the document holds nothing undurable:
   * everything the acks it has held here wait for, included. Delivered after the reset, those acks would bring its
   * count to 0 while its later edits are not stored yet: they are dropped.
   */
  resync(connection: Connection): void {
    const state = this.states.get(connection);
    if (state) this.dropHeld(connection, state);
  }

  /** Acks waiting for a commit (for tests). */
  get waiting(): number {
    return this.held.length;
  }

  private ack(connection: Connection, state: ConnectionState, message: Uint8Array): void {
    const bytes = state.nextAckBytes;
    state.nextAckBytes = 0;
    if (isClosed(connection)) {
      this.forgo(state, bytes);
      return;
    }
    const required = this.options.log.requiredFor(connection.document.name);
    if (state.held === 0 && required <= this.options.log.committed) {
      this.deliver(state, message, bytes);
      return;
    }
    state.held++;
    this.stats.held++;
    this.held.push({ connection, message, required, since: Date.now(), bytes });
    this.timer ??= setInterval(() => this.expire(), Math.min(1000, this.options.timeoutMs)).unref();
  }

  private release(committed: number): void {
    if (this.held.length === 0) return;
    const blocked = new Set<Connection>();
    const still: HeldAck[] = [];
    for (const ack of this.held) {
      if (ack.settled) continue;
      const state = this.states.get(ack.connection) as ConnectionState;
      if (isClosed(ack.connection)) {
        this.drop(state, ack);
        continue;
      }
      // Held while its document was undurable: the repair's append (./undurable-repair.ts), once queued, stores
      // everything the document held, so it is the one to wait for.
      if (ack.required === Number.POSITIVE_INFINITY) ack.required = this.options.log.requiredFor(ack.connection.document.name);
      if (ack.required > committed || blocked.has(ack.connection)) {
        blocked.add(ack.connection);
        still.push(ack);
        continue;
      }
      state.held--;
      ack.settled = true;
      this.deliver(state, ack.message, ack.bytes);
    }
    this.held = still;
    this.stopTimerIfIdle();
  }

  private deliver(state: ConnectionState, message: Uint8Array, bytes: number): void {
    state.send(message);
    this.forgo(state, bytes);
  }

  private drop(state: ConnectionState, ack: HeldAck): void {
    if (ack.settled) return;
    ack.settled = true;
    state.held--;
    this.forgo(state, ack.bytes);
  }

  /** Drops every ack held for the connection. */
  private dropHeld(connection: Connection, state: ConnectionState): void {
    if (state.held === 0) return;
    this.held = this.held.filter((ack) => {
      if (ack.settled) return false;
      if (ack.connection !== connection) return true;
      this.drop(state, ack);
      return false;
    });
    this.stopTimerIfIdle();
  }

  /** An ack left, or will never be sent (its connection closed): its bytes stop counting. */
  private forgo(state: ConnectionState, bytes: number): void {
    const { socket } = state;
    socket.unackedBytes -= bytes;
    if (socket.drained.length === 0) return;
    const waiters = socket.drained.splice(0);
    for (const check of waiters) check();
  }

  /** Closes the sockets of acks held past the timeout (the oldest are first); drops the acks of closed connections. */
  private expire(): void {
    const now = Date.now();
    const expired = new Set<Connection>();
    for (const ack of this.held) {
      if (now - ack.since < this.options.timeoutMs) break;
      if (expired.has(ack.connection)) continue;
      expired.add(ack.connection);
      this.stats.timedOut++;
      this.options.onTimeout?.(ack.connection.document.name, now - ack.since);
      ack.connection.webSocket.close(CLOSE_CODES.TRY_AGAIN_LATER.code, CLOSE_CODES.TRY_AGAIN_LATER.reason);
    }
    // Also what was held for connections that closed meanwhile, timed out or not: a socket that is gone keeps
    // nothing here (a client reconnecting again and again would otherwise pile up a budget's worth each time).
    this.held = this.held.filter((ack) => {
      if (ack.settled) return false;
      if (!expired.has(ack.connection) && !isClosed(ack.connection)) return true;
      this.drop(this.states.get(ack.connection) as ConnectionState, ack);
      return false;
    });
    this.stopTimerIfIdle();
  }

  private stopTimerIfIdle(): void {
    if (this.held.length > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * The socket is closing, or the document connection was closed while the socket stays open (a provider's Close
 * message, a revocation, an error): an ack held for it must not be delivered later, since a provider that opens the
 * document again on the same socket (same message address) would count it as the ack of its own, unstored, changes.
 */
function isClosed(connection: Connection): boolean {
  const state = connection.webSocket.readyState;
  return state === 2 || state === 3 || !connection.document.hasConnection(connection); // CLOSING, CLOSED
}

/** Bytes of a lib0 varString: the varUint length prefix and the UTF-8 bytes. */
function encodedStringLength(text: string): number {
  let n = Buffer.byteLength(text, 'utf8');
  let prefix = 1;
  while (n > 127) {
    n >>>= 7;
    prefix++;
  }
  return prefix + Buffer.byteLength(text, 'utf8');
}
