/**
 * User status on two instances sharing Postgres and a private Redis (STATUS_PRESENCE_TTL_MS = 2 s): offline means no
 * live connection on any instance; a killed (-9) instance's connections stop counting within TTL + TTL/3; after a
 * Redis restart (presence keys lost) the instances announce their users again; an instance that stalled past the TTL
 * (its users taken as expired) announces them again at its next heartbeat.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import type { JsonWsClient } from '../helpers/json-ws.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { mintToken, startServer, startServerProcess, type ServerProcess, type TestServer } from '../helpers/server.js';
import type { SseClient } from '../helpers/sse.js';
import { call } from '../realtime/support.js';
import { createDeck, eventually, socketOf, sseOf, subscribe } from '../chat/support.js';

const TTL_MS = 2000;

describe('user status across two instances', () => {
  let redis: RedisServer;
  let a: TestServer;
  let b: TestServer;
  let env: Record<string, string>;
  let child: ServerProcess | undefined;
  const sockets: JsonWsClient[] = [];
  const streams: SseClient[] = [];
  const ws = async (server: { url: string }, user: string) => {
    const client = await socketOf(server.url, user);
    sockets.push(client);
    return client;
  };
  const statusOn = async (server: { url: string }, userId: string) =>
    (await call(server.url, 'GET', `/api/v1/status/${userId}`, { token: mintToken('olga') })).body;

  beforeAll(async () => {
    redis = await startRedis();
    env = {
      DATABASE_URL: await createTestDatabase('statuspair'),
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'statuspair',
      STATUS_PRESENCE_TTL_MS: String(TTL_MS),
    };
    a = await startServer(env);
    b = await startServer(env);
    await createDeck(a.url, 'deck', 'olga', { uma: 'editor', ivo: 'editor', kai: 'editor', zed: 'editor' });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const s of streams) s.close();
    await child?.kill9();
    await Promise.allSettled([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('online while connected to either instance; offline only when the last connection anywhere ends', async () => {
    const watcher = await ws(a, 'olga');
    await subscribe(watcher, 'status.uma');
    const statuses = () => watcher.messages.filter((m) => m.type === 'user_status' && m.user_id === 'uma').map((m) => m.status);

    const onA = await ws(a, 'uma');
    await eventually(async () => (await statusOn(b, 'uma')).status === 'online', 'B sees uma online (connected to A)');
    const onB = await sseOf(b.url, 'uma', []);
    streams.push(onB);
    await call(b.url, 'PUT', '/api/v1/status', { token: mintToken('uma'), body: { status: 'away', message: 'lunch' } });
    expect(await statusOn(a, 'uma')).toMatchObject({ status: 'away', message: 'lunch' });

    onA.close();
    await onA.closed;
    // Still connected through B: a marker event shows A handled the close, and uma stays away, not offline.
    await call(a.url, 'PUT', '/api/v1/status', { token: mintToken('uma'), body: { status: 'busy' } });
    await watcher.waitFor((m) => m.type === 'user_status' && m.status === 'busy');
    expect((await statusOn(a, 'uma')).status).toBe('busy');

    onB.close();
    await watcher.waitFor((m) => m.type === 'user_status' && m.status === 'offline', 5000, 'offline announced on A after the stream on B ended');
    expect((await statusOn(a, 'uma')).status).toBe('offline');
    expect(statuses()).toEqual(['online', 'away', 'busy', 'offline']);
  });

  it('a killed instance’s connections stop counting within TTL + TTL/3; the other instance announces it', async () => {
    child = await startServerProcess({ ...env, LOG_LEVEL: 'warn' });
    const watcher = await ws(b, 'olga');
    await subscribe(watcher, 'status.ivo');
    await socketOf(child.url, 'ivo');
    await watcher.waitFor((m) => m.type === 'user_status' && m.status === 'online');
    expect((await statusOn(b, 'ivo')).status).toBe('online');

    await child.kill9();
    child = undefined;
    const killedAt = Date.now();
    const offline = await watcher.waitFor((m) => m.type === 'user_status' && m.status === 'offline', 15_000, 'offline announced by B');
    expect((await statusOn(b, 'ivo')).status).toBe('offline');
    expect(Date.parse(offline.last_seen)).toBeLessThanOrEqual(killedAt);
    expect(Date.parse(offline.last_seen)).toBeGreaterThan(killedAt - TTL_MS * 2);
    expect(watcher.messages.filter((m) => m.type === 'user_status' && m.status === 'offline')).toHaveLength(1);
  });

  it('users of an instance that stalled past the TTL (taken as expired) are announced online again at its next heartbeat', async () => {
    const watcher = await ws(b, 'olga');
    await subscribe(watcher, 'status.zed');
    await ws(a, 'zed');
    await watcher.waitFor((m) => m.type === 'user_status' && m.user_id === 'zed' && m.status === 'online');
    // What a stall of A looks like in Redis once B swept it: A's presence of zed expired, zed taken from the index.
    const direct = new Redis(redis.url);
    try {
      await direct.del('statuspair:status:live:zed');
      await direct.zrem('statuspair:status:live', 'zed');
    } finally {
      direct.disconnect();
    }
    const stalledAt = watcher.messages.length;
    await watcher.waitFor(
      (m) => m.type === 'user_status' && m.user_id === 'zed' && m.status === 'online',
      15_000,
      'zed announced online again by the heartbeat of A',
      stalledAt,
    );
    await eventually(async () => (await statusOn(b, 'zed')).status === 'online', 'B sees zed online again');
  });

  it('after a Redis restart (presence keys lost) the user is online again and announced again', async () => {
    const watcher = await ws(b, 'olga');
    await subscribe(watcher, 'status.kai');
    await ws(a, 'kai');
    await watcher.waitFor((m) => m.type === 'user_status' && m.user_id === 'kai' && m.status === 'online');

    await redis.stop();
    redis = await startRedis(redis.port);
    const restartedAt = watcher.messages.length;
    await watcher.waitFor(
      (m) => m.type === 'user_status' && m.user_id === 'kai' && m.status === 'online',
      15_000,
      'kai announced online again after the restart',
      restartedAt,
    );
    await eventually(async () => (await statusOn(b, 'kai')).status === 'online', 'B sees kai online from the refilled keys');
  });
});
