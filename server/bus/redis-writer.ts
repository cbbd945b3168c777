/**
 * The Redis bus's write side: every publish and state commit issued during one event-loop turn goes to Redis as ONE
 * Lua script call (one write, one reply, one script run), in issue order. Under load (many workers posting progress
 * at once) this turns N round trips into one; alone, a publish waits only for the end of the current turn
 * (setImmediate), not for a timer.
 *
 * For each operation, in order, the script:
 * - commit: compares the channel's state version with the expected one (none expected: no state) and, if it differs,
 *   returns the current state and does nothing else; otherwise stores the new state (`{version}\n{value}`, EX ttl);
 * - then, when the operation carries a payload: XADDs it to the channel's stream (MAXLEN ~ N, fields p = payload,
 *   q = seq) and PUBLISHes `{epoch.id}\n{seq}\n{payload}` to the channel's pub/sub channel.
 * The epoch is read (or started) once per call. Redis runs a script atomically, so stream order, delivery order and
 * state order agree on every instance, whichever instance wrote.
 */
import type { Redis } from 'ioredis';
import { newEpoch } from './event-id.js';
import { BusEvent, type ChannelState, type CommitResult, type StateChange } from './types.js';

const WRITE_SCRIPT = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[3]
  redis.call('SET', KEYS[1], epoch)
end
local maxlen, ttl = ARGV[1], ARGV[2]
local results = {}
local n = (#KEYS - 1) / 2
for i = 1, n do
  local stream, stateKey = KEYS[2 * i], KEYS[2 * i + 1]
  local a = 3 + (i - 1) * 7
  local kind, pubsub, hasPayload, payload = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local expect, version, value = ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
  local ok = true
  if kind == 'c' then
    local current = redis.call('GET', stateKey)
    local nl, currentVersion
    if current then
      nl = string.find(current, '\\n', 1, true)
      currentVersion = string.sub(current, 1, nl - 1)
    end
    if (expect == '' and current) or (expect ~= '' and (not current or tonumber(currentVersion) ~= tonumber(expect))) then
      ok = false
      -- The current value only for the answer of a stale commit (copying it on every commit costs Redis each time).
      if current then results[i] = {0, currentVersion, string.sub(current, nl + 1)} else results[i] = {0} end
    else
      redis.call('SET', stateKey, version .. '\\n' .. value, 'EX', ttl)
    end
  end
  if ok then
    if hasPayload == '1' then
      local seq = ''
      if kind == 'c' then seq = version end
      local id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'p', payload, 'q', seq)
      redis.call('EXPIRE', stream, ttl)
      local full = epoch .. '.' .. id
      redis.call('PUBLISH', pubsub, full .. '\\n' .. seq .. '\\n' .. payload)
      results[i] = {1, full}
    else
      results[i] = {1, ''}
    end
  end
end
return {epoch, results}
`;

type OpResult = [1, string] | [0, string?, string?];

interface WriterCommands {
  deckhandBusWrite(numKeys: number, ...args: (string | number)[]): Promise<[string, OpResult[]]>;
}

interface Operation {
  channel: string;
  commit: StateChange | undefined;
  payload: string | undefined;
  resolve: (result: CommitResult) => void;
  reject: (err: unknown) => void;
}

/** Operations per script call at most (a bigger turn is split into several calls, still in order). */
const MAX_BATCH = 128;
/** Channels whose keys are kept built (past this, the cache starts again empty). */
const KEY_CACHE_SIZE = 10_000;

interface ChannelKeys {
  stream: string;
  state: string;
  pubsub: string;
}

export interface RedisBusKeys {
  epoch: string;
  stream(channel: string): string;
  state(channel: string): string;
  pubsub(channel: string): string;
}

export class RedisBusWriter {
  private readonly redis: Redis & WriterCommands;
  private queue: Operation[] = [];
  private scheduled = false;
  /** The epoch to start if Redis has none (lost its data): a fresh one after each use, so epochs never repeat. */
  private epochCandidate = newEpoch();
  /** Each channel's three keys, built once: a job's every progress step writes to the same ones. */
  private readonly channelKeys = new Map<string, ChannelKeys>();

  constructor(
    redis: Redis,
    private readonly keys: RedisBusKeys,
    private readonly historyLength: number,
    private readonly ttlSeconds: number,
  ) {
    redis.defineCommand('deckhandBusWrite', { lua: WRITE_SCRIPT });
    this.redis = redis as Redis & WriterCommands;
  }

  /** The epoch candidate the next write would start; rotated once Redis took it. */
  takeCandidate(usedEpoch: string): void {
    if (usedEpoch === this.epochCandidate) this.epochCandidate = newEpoch();
  }

  get candidate(): string {
    return this.epochCandidate;
  }

  publish(channel: string, payload: string): Promise<BusEvent> {
    return this.enqueue(channel, undefined, payload).then((result) => (result as { event: BusEvent }).event);
  }

  commit(channel: string, change: StateChange): Promise<CommitResult> {
    return this.enqueue(channel, change, change.payload);
  }

  /** Fails every queued operation (the bus closed or lost Redis). */
  failAll(err: Error): void {
    const queued = this.queue;
    this.queue = [];
    for (const op of queued) op.reject(err);
  }

  private enqueue(channel: string, commit: StateChange | undefined, payload: string | undefined): Promise<CommitResult> {
    return new Promise<CommitResult>((resolve, reject) => {
      this.queue.push({ channel, commit, payload, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const queued = this.queue;
        this.queue = [];
        for (let i = 0; i < queued.length; i += MAX_BATCH) void this.write(queued.slice(i, i + MAX_BATCH));
      });
    });
  }

  private keysOf(channel: string): ChannelKeys {
    let built = this.channelKeys.get(channel);
    if (!built) {
      if (this.channelKeys.size >= KEY_CACHE_SIZE) this.channelKeys.clear();
      built = { stream: this.keys.stream(channel), state: this.keys.state(channel), pubsub: this.keys.pubsub(channel) };
      this.channelKeys.set(channel, built);
    }
    return built;
  }

  private async write(ops: Operation[]): Promise<void> {
    const keys: string[] = [this.keys.epoch];
    const args: (string | number)[] = [this.historyLength, this.ttlSeconds, this.epochCandidate];
    for (const op of ops) {
      const channelKeys = this.keysOf(op.channel);
      keys.push(channelKeys.stream, channelKeys.state);
      const c = op.commit;
      args.push(
        c ? 'c' : 'p',
        channelKeys.pubsub,
        op.payload === undefined ? '0' : '1',
        op.payload ?? '',
        c && c.expect !== null ? String(c.expect) : '',
        c ? String(c.state.version) : '',
        c ? c.state.value : '',
      );
    }
    let reply: [string, OpResult[]];
    try {
      reply = await this.redis.deckhandBusWrite(keys.length, ...keys, ...args);
    } catch (err) {
      for (const op of ops) op.reject(err);
      return;
    }
    const [epoch, results] = reply;
    this.takeCandidate(epoch);
    ops.forEach((op, i) => {
      const result = results[i]!;
      if (result[0] === 1) {
        const id = result[1];
        const seq = op.commit ? op.commit.state.version : undefined;
        op.resolve({ ok: true, event: id ? new BusEvent(op.channel, id, op.payload!, seq) : null });
      } else {
        const current: ChannelState | null = result[1] === undefined ? null : { version: Number(result[1]), value: result[2] ?? '' };
        op.resolve({ ok: false, current });
      }
    });
  }
}
