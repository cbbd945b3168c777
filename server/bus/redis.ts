/**
 * The Redis bus (when REDIS_URL is set): pub/sub for fan-out, a capped Redis Stream per channel for history, and a
 * key per channel for its state.
 *
 * - publish / commit: ./redis-writer.ts (what one event-loop turn issues goes to Redis as one Lua script call:
 *   state compare-and-set, XADD, PUBLISH `{id}\n{seq}\n{payload}`): stream order and delivery order are the same
 *   on every instance, whichever instance published.
 * - one subscriber connection per instance, one Redis SUBSCRIBE per channel that has local listeners.
 * - subscriber reconnect: every channel is resubscribed, then refilled from its stream after the last id it
 *   delivered (live messages are held back meanwhile), so a blip loses and repeats nothing. If the stream no longer
 *   covers the gap (or Redis restarted and lost it: the epoch key is gone and a new epoch begins), listeners get
 *   `gap()` and resync from Postgres.
 * - Redis down: publish and commit fail at once (the caller keeps its state and publishes again later), subscribe
 *   waits for Redis up to ioredis's retry budget and then fails.
 * Keys: `{prefix}:bus:epoch`, `{prefix}:bus:stream:{channel}`, `{prefix}:bus:state:{channel}`; pub/sub channel
 * `{prefix}:bus:{channel}`. Single Redis (or a primary), not Redis Cluster.
 */
import type { Redis } from 'ioredis';
import { createRedisClient } from '../redis.js';
import { compareIds, formatEventId, isAfterParsed, parseEventId, parseStreamId, type ParsedEventId } from './event-id.js';
import {
  BusEvent,
  DEFAULT_HISTORY_LENGTH,
  DEFAULT_HISTORY_TTL_MS,
  type Bus,
  type BusListener,
  type BusOptions,
  type ChannelSnapshot,
  type ChannelState as StateRecord,
  type CommitResult,
  type HistoryResult,
  type StateChange,
  type Unsubscribe,
} from './types.js';
import { RedisBusWriter } from './redis-writer.js';

/** Returns {epoch, last-generated-id, first-entry-id, entries-added, length, entries-after, state} atomically. */
const HISTORY_SCRIPT = `
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[2], epoch)
end
local state = redis.call('GET', KEYS[3]) or ''
if redis.call('EXISTS', KEYS[1]) == 0 then return {epoch, '0-0', '0-0', 0, 0, {}, state} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last, first, added, length = '0-0', '0-0', 0, 0
for i = 1, #info, 2 do
  local k = info[i]
  if k == 'last-generated-id' then last = info[i + 1]
  elseif k == 'first-entry' and info[i + 1] then first = info[i + 1][1]
  elseif k == 'entries-added' then added = info[i + 1]
  elseif k == 'length' then length = info[i + 1] end
end
local entries = {}
if ARGV[2] ~= '' then entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[2], '+', 'COUNT', ARGV[3]) end
return {epoch, last, first, added, length, entries, state}
`;

type StreamEntry = [id: string, fields: string[]];
type HistoryReply = [epoch: string, last: string, first: string, added: number, length: number, entries: StreamEntry[], state: string];

interface BusCommands {
  deckhandBusHistory(...args: (string | number)[]): Promise<HistoryReply>;
}

interface ChannelState {
  listeners: Set<BusListener>;
  /** Id of the last event delivered to the listeners. */
  lastId: string | undefined;
  /** `lastId` parsed (compared with every event). */
  lastParsed: ParsedEventId | undefined;
  /** The channel's head when the subscription went live: the refill baseline before any event arrived. */
  resumeFrom: string | undefined;
  /** Live events held back while the channel is refilled after a reconnect. */
  filling: BusEvent[] | null;
  live: Promise<void>;
}

export interface RedisBusOptions extends BusOptions {
  url: string;
  prefix: string;
  logger?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

export class RedisBus implements Bus {
  readonly kind = 'redis' as const;
  private readonly pub: Redis & BusCommands;
  private readonly sub: Redis;
  private readonly writer: RedisBusWriter;
  private readonly channels = new Map<string, ChannelState>();
  private readonly historyLength: number;
  private readonly ttlSeconds: number;
  private readonly keyPrefix: string;
  private readonly pubsubPrefix: string;
  private readonly onListenerError: (err: unknown, channel: string) => void;
  private readonly logger: RedisBusOptions['logger'];
  private everReady = false;
  private pubEverReady = false;
  private refillRound = 0;
  private closed = false;

  constructor(options: RedisBusOptions) {
    this.historyLength = options.historyLength ?? DEFAULT_HISTORY_LENGTH;
    this.ttlSeconds = Math.max(1, Math.ceil((options.historyTtlMs ?? DEFAULT_HISTORY_TTL_MS) / 1000));
    this.keyPrefix = `${options.prefix}:bus:`;
    this.pubsubPrefix = `${options.prefix}:bus:`;
    this.onListenerError = options.onListenerError ?? (() => {});
    this.logger = options.logger;
    const pub = createRedisClient(options.url, 'bus');
    pub.defineCommand('deckhandBusHistory', { numberOfKeys: 3, lua: HISTORY_SCRIPT });
    this.pub = pub as Redis & BusCommands;
    this.writer = new RedisBusWriter(
      pub,
      {
        epoch: this.epochKey,
        stream: (channel) => this.streamKey(channel),
        state: (channel) => this.stateKey(channel),
        pubsub: (channel) => this.pubsubPrefix + channel,
      },
      this.historyLength,
      this.ttlSeconds,
    );
    this.pub.once('ready', () => (this.pubEverReady = true));
    this.sub = createRedisClient(options.url, 'bus-sub');
    this.sub.on('message', (pubsubChannel: string, message: string) => this.onMessage(pubsubChannel, message));
    this.sub.on('ready', () => {
      if (!this.everReady) {
        this.everReady = true;
        return;
      }
      this.logger?.info({ channels: this.channels.size }, 'bus subscriber reconnected: refilling channels from history');
      void this.refill();
    });
  }

  // The writer's promise itself (a refusal: a rejected one): as async functions, each call cost one more promise and
  // three more microtask jobs to adopt the writer's (once per progress POST).
  publish(channel: string, payload: string): Promise<BusEvent> {
    const refused = this.writeRefusal();
    return refused ? Promise.reject(refused) : this.writer.publish(channel, payload);
  }

  commit(channel: string, change: StateChange): Promise<CommitResult> {
    const refused = this.writeRefusal();
    return refused ? Promise.reject(refused) : this.writer.commit(channel, change);
  }

  async state(channel: string): Promise<ChannelSnapshot> {
    const { head, state } = await this.read(channel, '');
    return { head, state };
  }

  async subscribe(channel: string, listener: BusListener): Promise<Unsubscribe> {
    if (this.closed) throw new Error('bus closed');
    let state = this.channels.get(channel);
    if (!state) {
      const fresh: ChannelState = {
        listeners: new Set(),
        lastId: undefined,
        lastParsed: undefined,
        resumeFrom: undefined,
        filling: null,
        live: Promise.resolve(),
      };
      fresh.live = this.sub.subscribe(this.pubsubPrefix + channel).then(() => {
        // The refill baseline, should the subscriber connection drop before the first event arrives.
        this.head(channel).then(
          (head) => (fresh.resumeFrom ??= head),
          () => {},
        );
      });
      this.channels.set(channel, fresh);
      state = fresh;
    }
    const current = state;
    current.listeners.add(listener);
    const unsubscribe = () => {
      if (!current.listeners.delete(listener) || current.listeners.size > 0) return;
      if (this.channels.get(channel) === current) this.channels.delete(channel);
      if (!this.closed) this.sub.unsubscribe(this.pubsubPrefix + channel).catch(() => {});
    };
    try {
      await current.live;
    } catch (err) {
      unsubscribe();
      throw err;
    }
    return unsubscribe;
  }

  async history(channel: string, afterId: string): Promise<HistoryResult> {
    const { head, complete, events } = await this.read(channel, afterId);
    return { complete, events, head };
  }

  async head(channel: string): Promise<string> {
    return (await this.read(channel, '')).head;
  }

  /** Head, history after `afterId` (when given) and state, in one script call. */
  private async read(channel: string, afterId: string): Promise<HistoryResult & { state: StateRecord | null }> {
    const after = afterId ? parseEventId(afterId) : null;
    const reply = await this.pub.deckhandBusHistory(
      this.streamKey(channel),
      this.epochKey,
      this.stateKey(channel),
      this.writer.candidate,
      after ? `${after.ms}-${after.seq}` : '',
      this.historyLength * 2 + 200,
    );
    const [epoch, last, first, added, length, entries, stateText] = reply;
    this.writer.takeCandidate(epoch);
    const head = formatEventId(epoch, last);
    const state = parseState(stateText);
    if (!after || after.epoch !== epoch) return { complete: false, events: [], head, state };
    const lastId = parseStreamId(last) ?? { ms: 0, seq: 0 };
    const firstId = parseStreamId(first) ?? { ms: 0, seq: 0 };
    // Trimming removes the oldest entries: everything after `after` is still there when `after` is the newest id,
    // nothing was ever trimmed, or `after` is not older than the oldest entry kept. (A missing stream: only 0-0.)
    const order = compareIds(after, lastId);
    const complete = order === 0 || (order < 0 && (Number(added) === Number(length) || (Number(length) > 0 && compareIds(after, firstId) >= 0)));
    if (!complete) return { complete: false, events: [], head, state };
    const events = entries.map(([id, fields]) => eventFromEntry(channel, formatEventId(epoch, id), fields));
    return { complete: true, events, head, state };
  }

  async ping(): Promise<void> {
    await this.pub.ping();
    if (this.sub.status !== 'ready') throw new Error(`bus subscriber ${this.sub.status}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    this.writer.failAll(new Error('bus closed'));
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private get epochKey(): string {
    return `${this.keyPrefix}epoch`;
  }

  private streamKey(channel: string): string {
    return `${this.keyPrefix}stream:${channel}`;
  }

  private stateKey(channel: string): string {
    return `${this.keyPrefix}state:${channel}`;
  }

  /** Why a write fails at once (closed, or lost the connection: rather than after ioredis's reconnect attempts); else undefined. */
  private writeRefusal(): Error | undefined {
    if (this.closed) return new Error('bus closed');
    if (this.pubEverReady && this.pub.status !== 'ready') return new Error(`bus unavailable: Redis ${this.pub.status}`);
    return undefined;
  }

  private onMessage(pubsubChannel: string, message: string): void {
    if (!pubsubChannel.startsWith(this.pubsubPrefix)) return;
    const channel = pubsubChannel.slice(this.pubsubPrefix.length);
    const state = this.channels.get(channel);
    if (!state) return;
    const first = message.indexOf('\n');
    const second = message.indexOf('\n', first + 1);
    if (first < 0 || second < 0) return;
    const seqText = message.slice(first + 1, second);
    const event = new BusEvent(channel, message.slice(0, first), message.slice(second + 1), seqText ? Number(seqText) : undefined);
    if (state.filling) state.filling.push(event);
    else this.deliver(state, event);
  }

  private deliver(state: ChannelState, event: BusEvent): void {
    if (state.lastId !== undefined && !isAfterParsed(event.parsedId, state.lastParsed ?? null)) return;
    state.lastId = event.id;
    state.lastParsed = event.parsedId ?? undefined;
    for (const listener of state.listeners) {
      try {
        listener.event(event);
      } catch (err) {
        this.onListenerError(err, event.channel);
      }
    }
  }

  /** After a reconnect: resubscribe, then deliver what each channel missed, then what arrived meanwhile. */
  private async refill(): Promise<void> {
    const round = ++this.refillRound;
    const entries = [...this.channels];
    if (entries.length === 0) return;
    for (const [, state] of entries) state.filling = [];
    try {
      await this.sub.subscribe(...entries.map(([channel]) => this.pubsubPrefix + channel));
    } catch {
      return; // dropped again: the next 'ready' refills
    }
    await Promise.all(
      entries.map(async ([channel, state]) => {
        const baseline = state.lastId ?? state.resumeFrom;
        let result: HistoryResult | undefined;
        try {
          result = baseline ? await this.history(channel, baseline) : undefined;
        } catch {
          result = undefined;
        }
        if (round !== this.refillRound || this.channels.get(channel) !== state) return;
        const held = state.filling ?? [];
        state.filling = null;
        if (result?.complete) {
          for (const event of result.events) this.deliver(state, event);
        } else {
          this.logger?.warn({ channel }, 'bus history does not cover the outage: listeners resync');
          state.lastId = undefined;
          state.lastParsed = undefined;
          state.resumeFrom = result?.head;
          for (const listener of state.listeners) {
            try {
              listener.gap?.();
            } catch (err) {
              this.onListenerError(err, channel);
            }
          }
        }
        for (const event of held) this.deliver(state, event);
      }),
    );
  }
}

function parseState(text: string): StateRecord | null {
  const nl = text.indexOf('\n');
  if (nl <= 0) return null;
  const version = Number(text.slice(0, nl));
  return Number.isFinite(version) ? { version, value: text.slice(nl + 1) } : null;
}

function eventFromEntry(channel: string, id: string, fields: string[]): BusEvent {
  let payload = '';
  let seq: number | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'p') payload = fields[i + 1]!;
    else if (fields[i] === 'q' && fields[i + 1]) seq = Number(fields[i + 1]);
  }
  return new BusEvent(channel, id, payload, seq);
}
