/**
 * The bus contract, run against both implementations (in-process and a real Redis), plus the Redis-only behaviour:
 * two instances sharing Redis, a subscriber connection dropped mid-stream, and a Redis restart that loses history.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MemoryBus } from '../../server/bus/memory.js';
import { RedisBus } from '../../server/bus/redis.js';
import type { Bus, BusEvent, BusOptions } from '../../server/bus/types.js';
import { waitFor } from '../helpers/collab-client.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const opened: Bus[] = [];
afterAll(async () => {
  await Promise.all(opened.map((b) => b.close()));
});

function collect(events: BusEvent[] = []) {
  return { events, listener: { event: (e: BusEvent) => events.push(e) } };
}

function streamOrder(a: string, b: string): number {
  const [am, as] = a.split('.')[1]!.split('-').map(Number);
  const [bm, bs] = b.split('.')[1]!.split('-').map(Number);
  return am! - bm! || as! - bs!;
}

const implementations: [string, (options?: BusOptions) => Bus][] = [
  ['memory', (options) => new MemoryBus(options)],
  ['redis', (options) => new RedisBus({ ...options, url: inject('redisUrl'), prefix: `bus-${randomBytes(4).toString('hex')}` })],
];

describe.each(implementations)('%s bus', (_name, create) => {
  const open = (options?: BusOptions) => {
    const bus = create(options);
    opened.push(bus);
    return bus;
  };

  it('delivers in publish order to every listener, the same event object to each, with growing ids', async () => {
    const bus = open();
    const a = collect();
    const b = collect();
    await bus.subscribe('jobs.1', a.listener);
    await bus.subscribe('jobs.1', b.listener);
    const published: (BusEvent | null)[] = [];
    for (let i = 0; i < 50; i++) published.push(await bus.publish('jobs.1', JSON.stringify({ i })));
    await waitFor(() => a.events.length === 50 && b.events.length === 50, 5000, 'deliveries');
    expect(a.events.map((e) => (e.json() as { i: number }).i)).toEqual([...Array(50).keys()]);
    expect(a.events.map((e) => e.id)).toEqual(published.map((e) => e!.id));
    for (let i = 0; i < 50; i++) expect(b.events[i]).toBe(a.events[i]);
    const ids = a.events.map((e) => e.id);
    expect([...ids].sort(streamOrder)).toEqual(ids);
    expect(new Set(ids).size).toBe(50);
  });

  it('history: exactly the events after an id; incomplete for foreign or unknown ids', async () => {
    const bus = open();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await bus.publish('user.u1', `{"n":${i}}`))!.id);
    const h = await bus.history('user.u1', ids[3]!);
    expect(h.complete).toBe(true);
    expect(h.events.map((e) => e.payload)).toEqual([4, 5, 6, 7, 8, 9].map((n) => `{"n":${n}}`));
    expect(h.head).toBe(ids[9]);
    expect(await bus.history('user.u1', ids[9]!)).toMatchObject({ complete: true, events: [] });
    expect(await bus.head('user.u1')).toBe(ids[9]);
    // Another epoch, garbage, an id from the future: no replay, a resync.
    expect((await bus.history('user.u1', `00000000.${ids[3]!.split('.')[1]}`)).complete).toBe(false);
    expect((await bus.history('user.u1', 'garbage')).complete).toBe(false);
    expect((await bus.history('user.u1', ids[9]!.replace(/\.\d+/, '.99999999999999'))).complete).toBe(false);
    // An empty channel: its head resumes to everything published later.
    const head = await bus.head('user.empty');
    await bus.publish('user.empty', '{"first":true}');
    const after = await bus.history('user.empty', head);
    expect(after.complete).toBe(true);
    expect(after.events.map((e) => e.payload)).toEqual(['{"first":true}']);
  });

  it('history is capped: a resume point older than the history is incomplete, a recent one is complete', async () => {
    const bus = open({ historyLength: 5 });
    const ids: string[] = [];
    for (let i = 0; i < 400; i++) ids.push((await bus.publish('general', `${i}`))!.id);
    expect((await bus.history('general', ids[0]!)).complete).toBe(false);
    const recent = await bus.history('general', ids[396]!);
    expect(recent.complete).toBe(true);
    expect(recent.events.map((e) => e.payload)).toEqual(['397', '398', '399']);
  });

  it('commit: compare-and-set of the channel state, its event published in the same step with seq = version', async () => {
    const bus = open();
    const { events, listener } = collect();
    await bus.subscribe('jobs.cas', listener);
    expect(await bus.state('jobs.cas')).toEqual({ head: await bus.head('jobs.cas'), state: null });
    // Only "no state yet" is accepted as the base of the first commit; a state with no payload publishes nothing.
    expect(await bus.commit('jobs.cas', { expect: 3, state: { version: 4, value: 'x' } })).toEqual({ ok: false, current: null });
    expect(await bus.commit('jobs.cas', { expect: null, state: { version: 1, value: 'one' } })).toEqual({ ok: true, event: null });
    expect(await bus.commit('jobs.cas', { expect: null, state: { version: 1, value: 'again' } })).toEqual({
      ok: false,
      current: { version: 1, value: 'one' },
    });
    const two = await bus.commit('jobs.cas', { expect: 1, state: { version: 2, value: 'two\nlines' }, payload: '"v2"' });
    expect(two.ok && two.event).toMatchObject({ payload: '"v2"', seq: 2 });
    expect(await bus.commit('jobs.cas', { expect: 1, state: { version: 2, value: 'stale' }, payload: '"stale"' })).toEqual({
      ok: false,
      current: { version: 2, value: 'two\nlines' },
    });
    const plain = await bus.publish('jobs.cas', '"plain"');
    expect(plain.seq).toBeUndefined();
    const snapshot = await bus.state('jobs.cas');
    expect(snapshot).toEqual({ head: plain.id, state: { version: 2, value: 'two\nlines' } });
    await waitFor(() => events.length === 2, 5000, 'deliveries');
    expect(events.map((e) => [e.payload, e.seq])).toEqual([
      ['"v2"', 2],
      ['"plain"', undefined],
    ]);
    // Replayed from history, the seq is kept.
    const replay = await bus.history('jobs.cas', `${snapshot.head.split('.')[0]}.0-0`);
    expect(replay.events.filter((e) => e.payload === '"v2"').map((e) => e.seq)).toEqual([2]);
  });

  it('publishes and commits issued in one turn keep their order per channel', async () => {
    const bus = open();
    const a = collect();
    const b = collect();
    await bus.subscribe('custom.burst-a', a.listener);
    await bus.subscribe('custom.burst-b', b.listener);
    const issued = Array.from({ length: 300 }, (_, i) => bus.publish(i % 2 ? 'custom.burst-b' : 'custom.burst-a', `${i}`));
    const published = await Promise.all(issued);
    await waitFor(() => a.events.length === 150 && b.events.length === 150, 5000, 'deliveries');
    expect(a.events.map((e) => Number(e.payload))).toEqual([...Array(150).keys()].map((i) => 2 * i));
    expect(b.events.map((e) => Number(e.payload))).toEqual([...Array(150).keys()].map((i) => 2 * i + 1));
    expect(a.events.map((e) => e.id)).toEqual(published.filter((_, i) => i % 2 === 0).map((e) => e.id));
  });

  it('a closed bus refuses publish and commit with a rejected promise, never a synchronous throw', async () => {
    const bus = create();
    await bus.close();
    let publish: Promise<unknown> | undefined;
    let commit: Promise<unknown> | undefined;
    expect(() => (publish = bus.publish('custom.closed', '1'))).not.toThrow();
    expect(() => (commit = bus.commit('jobs.closed', { expect: null, state: { version: 1, value: 'x' }, payload: '1' }))).not.toThrow();
    await expect(publish).rejects.toThrow('bus closed');
    await expect(commit).rejects.toThrow('bus closed');
  });

  it('unsubscribe stops delivery; other listeners keep receiving', async () => {
    const bus = open();
    const a = collect();
    const b = collect();
    const unsubscribeA = await bus.subscribe('custom.t', a.listener);
    await bus.subscribe('custom.t', b.listener);
    await bus.publish('custom.t', '1');
    await waitFor(() => a.events.length === 1 && b.events.length === 1, 5000, 'first');
    unsubscribeA();
    unsubscribeA();
    await bus.publish('custom.t', '2');
    await waitFor(() => b.events.length === 2, 5000, 'second');
    expect(a.events.length).toBe(1);
  });
});

describe('redis bus across instances and outages', () => {
  it('two instances sharing Redis see one order per channel, whoever publishes', async () => {
    const prefix = `bus-${randomBytes(4).toString('hex')}`;
    const a = new RedisBus({ url: inject('redisUrl'), prefix });
    const b = new RedisBus({ url: inject('redisUrl'), prefix });
    opened.push(a, b);
    const onA = collect();
    const onB = collect();
    await a.subscribe('jobs.x', onA.listener);
    await b.subscribe('jobs.x', onB.listener);
    await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => a.publish('jobs.x', `"a${i}"`)),
      ...Array.from({ length: 40 }, (_, i) => b.publish('jobs.x', `"b${i}"`)),
    ]);
    await waitFor(() => onA.events.length === 80 && onB.events.length === 80, 5000, 'deliveries');
    expect(onA.events.map((e) => e.id)).toEqual(onB.events.map((e) => e.id));
    const epoch = onA.events[0]!.id.split('.')[0];
    const history = await b.history('jobs.x', `${epoch}.0-0`);
    expect(history.events.map((e) => e.id)).toEqual(onA.events.map((e) => e.id));
  });

  it('two instances racing commits on one channel: every change applies once, in one order, none lost', async () => {
    const prefix = `bus-${randomBytes(4).toString('hex')}`;
    const a = new RedisBus({ url: inject('redisUrl'), prefix });
    const b = new RedisBus({ url: inject('redisUrl'), prefix });
    opened.push(a, b);
    const seen = collect();
    await a.subscribe('jobs.race', seen.listener);
    // Each instance adds its name to the state 40 times, retrying from the current state when another got there first.
    const add = async (bus: Bus, name: string) => {
      for (let n = 0; n < 40; n++) {
        let current = (await bus.state('jobs.race')).state;
        for (;;) {
          const value = `${current?.value ?? ''}${name}`;
          const version = (current?.version ?? 0) + 1;
          const result = await bus.commit('jobs.race', {
            expect: current?.version ?? null,
            state: { version, value },
            payload: JSON.stringify(value),
          });
          if (result.ok) break;
          current = result.current;
        }
      }
    };
    await Promise.all([add(a, 'a'), add(b, 'b')]);
    const final = (await b.state('jobs.race')).state!;
    expect(final.version).toBe(80);
    expect([...final.value].filter((c) => c === 'a')).toHaveLength(40);
    await waitFor(() => seen.events.length === 80, 5000, 'every change delivered');
    expect(seen.events.map((e) => e.seq)).toEqual([...Array(80).keys()].map((i) => i + 1));
    expect(JSON.parse(seen.events.at(-1)!.payload)).toBe(final.value);
  });

  it('refills what a dropped subscriber connection missed, in order, without repeats', async () => {
    const prefix = `bus-${randomBytes(4).toString('hex')}`;
    const publisher = new RedisBus({ url: inject('redisUrl'), prefix });
    const follower = new RedisBus({ url: inject('redisUrl'), prefix });
    opened.push(publisher, follower);
    const { events, listener } = collect();
    let gaps = 0;
    await follower.subscribe('jobs.blip', { ...listener, gap: () => gaps++ });
    for (let i = 0; i < 5; i++) await publisher.publish('jobs.blip', `${i}`);
    await waitFor(() => events.length === 5, 5000, 'before the blip');
    const admin = new Redis(inject('redisUrl'));
    try {
      await admin.client('KILL', 'TYPE', 'pubsub');
    } finally {
      admin.disconnect();
    }
    for (let i = 5; i < 20; i++) await publisher.publish('jobs.blip', `${i}`);
    await waitFor(() => events.length >= 20, 10_000, 'refill');
    await new Promise((r) => setTimeout(r, 200));
    expect(events.map((e) => e.payload)).toEqual([...Array(20).keys()].map(String));
    expect(gaps).toBe(0);
  });

  it('a Redis restart that loses the streams: listeners get gap(), old ids resume as incomplete', async () => {
    const redis = await startRedis();
    const publisher = new RedisBus({ url: redis.url, prefix: 'restart' });
    const follower = new RedisBus({ url: redis.url, prefix: 'restart' });
    let restarted: RedisServer | undefined;
    try {
      const { events, listener } = collect();
      let gaps = 0;
      await follower.subscribe('jobs.r', { ...listener, gap: () => gaps++ });
      const before = (await publisher.publish('jobs.r', '"before"'))!;
      await waitFor(() => events.length === 1, 5000, 'first event');
      await redis.stop();
      restarted = await startRedis(redis.port);
      await waitFor(() => gaps === 1, 15_000, 'gap after restart');
      // The publisher's own connection reconnects on its own schedule: until then a publish fails fast (by design).
      const reachable = () =>
        publisher.ping().then(
          () => true,
          () => false,
        );
      await expect.poll(reachable, { timeout: 15_000, interval: 50 }).toBe(true);
      const after = await publisher.publish('jobs.r', '"after"');
      expect(after).not.toBeNull();
      await waitFor(() => events.length === 2, 10_000, 'event after restart');
      expect(events[1]!.payload).toBe('"after"');
      expect(after!.id.split('.')[0]).not.toBe(before.id.split('.')[0]);
      expect((await publisher.history('jobs.r', before.id)).complete).toBe(false);
    } finally {
      await Promise.all([publisher.close(), follower.close()]);
      // The helper's stop() never resolves when called twice for one process: stop each process once.
      await (restarted ?? redis).stop();
    }
  });
});
