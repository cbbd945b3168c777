/**
 * Structure-aware fuzzing of the JSON sockets (their protocol and limits): mutations of every client message type of
 * `/realtime/generation` and `/realtime/notifications` (wrong types, missing and extra fields, huge strings, deep
 * nesting, `__proto__`/`constructor` keys, numbers as strings, unicode, duplicate keys, broken JSON, binary and empty
 * frames), sent before the connection is admitted, after it, and on connections whose token is refused.
 *
 * An oracle written from the documented protocol (docs/jobs.md, docs/notifications.md, channel table) predicts the
 * one answer each frame gets: INVALID_MESSAGE for every malformed frame, and for well-formed ones the documented
 * answer (pong, authenticated, job_progress, subscribed, unsubscribed, NOT_FOUND, PERMISSION_DENIED, ...). Answers come
 * one per frame, in order, so they are matched one to one. Throughout: no crash, no unhandled rejection or uncaught
 * exception in the server's process (this one), no INTERNAL_ERROR, the fuzzed sockets stay open, Object.prototype is
 * untouched, and another user's WebSocket and SSE deliveries all arrive, in order.
 *
 * Seeded: FUZZ_SEED=<n> replays a run (the seed is in the test names); FUZZ_ROUNDS multiplies the frames.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { openSse, type SseClient } from '../helpers/sse.js';
import { adminToken, call, createJob, generationWs, notificationsSse, notificationsWs, notify, postProgress } from '../realtime/support.js';

const SEED = Number(process.env.FUZZ_SEED ?? 5381);
const ROUNDS = Math.max(1, Number(process.env.FUZZ_ROUNDS ?? 1));
const FRAMES = 300 * ROUNDS;
const ME = 'fuzzer';
const OTHER = 'bystander';

// ── Seeded randomness ─────────────────────────────────────────────────────────────────────────────────────────────
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const chance = (rng: Rng, p: number) => rng() < p;
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

// ── Fixtures the generator and the oracle share ──────────────────────────────────────────────────────────────────
interface Fixtures {
  ownJob: string;
  otherJob: string;
  otherNotification: string;
  sameUserToken: string;
  otherUserToken: string;
}
let fx: Fixtures;

const setKey = (obj: Record<string, unknown>, key: string, value: unknown) =>
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });

function randomString(rng: Rng): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:';
  let s = '';
  for (let i = int(rng, 1, 12); i > 0; i--) s += alphabet[int(rng, 0, alphabet.length - 1)];
  return s;
}

function mutateToken(rng: Rng, token: string): string {
  const [h, p = '', s = ''] = token.split('.');
  const i = int(rng, 1, Math.max(1, p.length - 2));
  return `${h}.${p.slice(0, i)}${p[i] === 'A' ? 'B' : 'A'}${p.slice(i + 1)}.${s}`;
}

/** Strings a hostile or confused client might put anywhere. */
function poolString(rng: Rng): string {
  const huge = chance(rng, 0.04) ? 'x'.repeat(int(rng, 300_000, 900_000)) : 'y'.repeat(pick(rng, [129, 257, 301, 8193, 70_000]));
  return pick(rng, [
    '',
    ' ',
    randomString(rng),
    randomString(rng),
    'general',
    'team-42',
    `team-${int(rng, 0, 60)}`,
    `user_${ME}`,
    `user_${OTHER}`,
    'user_',
    `jobs.${fx.ownJob}`,
    'jobs.',
    'presence.deck',
    'presence.',
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    '123',
    '-1',
    '1e3',
    'true',
    'null',
    'ü',
    'チャンネル',
    '😀'.repeat(int(rng, 1, 40)),
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udfff\ud800',
    '\u202egeneral',
    'gen\u200beral',
    'a\nb',
    '../../etc/passwd',
    '%00',
    '<script>alert(1)</script>',
    "' OR 1=1 --",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell-style probe, sent literally
    '${jndi:ldap://x}',
    huge,
    fx.ownJob,
    fx.otherJob,
    `fz-missing-${int(rng, 0, 1e6)}`,
    randomUUID(),
    randomUUID().toUpperCase(),
    fx.otherNotification,
    fx.sameUserToken,
    fx.otherUserToken,
    mutateToken(rng, fx.sameUserToken),
    mintToken(ME, { expiresIn: -10 }),
  ]);
}

function poolValue(rng: Rng, depth = 0): unknown {
  switch (int(rng, 0, 9)) {
    case 0:
      return pick(rng, [0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, 42]);
    case 1:
      return pick(rng, [true, false, null]);
    case 2:
      return depth > 2 ? [] : [poolValue(rng, depth + 1)];
    case 3:
      return depth > 2 ? {} : setKey({}, pick(rng, ['a', '__proto__', 'type', 'constructor']), poolValue(rng, depth + 1));
    case 4:
      return pick(rng, [[], {}]);
    default:
      return poolString(rng);
  }
}

// ── Valid messages of each socket ────────────────────────────────────────────────────────────────────────────────
type Kind = 'generation' | 'notifications';
const TYPES: Record<Kind, string[]> = {
  generation: ['ping', 'auth', 'subscribe_job', 'unsubscribe_job'],
  notifications: ['ping', 'auth', 'subscribe_channel', 'unsubscribe_channel', 'mark_read'],
};

function validMessage(rng: Rng, kind: Kind): Record<string, unknown> {
  const type = pick(rng, TYPES[kind]);
  switch (type) {
    case 'auth':
      return { type, token: pick(rng, [fx.sameUserToken, fx.sameUserToken, fx.otherUserToken]) };
    case 'subscribe_job':
    case 'unsubscribe_job':
      return { type, job_id: pick(rng, [fx.ownJob, fx.otherJob, `fz-missing-${int(rng, 0, 99)}`]) };
    case 'subscribe_channel':
    case 'unsubscribe_channel':
      return {
        type,
        channel: pick(rng, ['general', `team-${int(rng, 0, 60)}`, `user_${ME}`, `user_${OTHER}`, 'presence.deck', `jobs.${fx.ownJob}`]),
      };
    case 'mark_read':
      return { type, id: pick(rng, [randomUUID(), fx.otherNotification]) };
    default:
      return { type };
  }
}

interface Frame {
  data: string | Buffer;
  binary: boolean;
  label: string;
}

/** One frame: a valid message, a structural mutation of one, a textual mutation, or a frame-level oddity. */
function generateFrame(rng: Rng, kind: Kind): Frame {
  const base = validMessage(rng, kind);
  const keys = Object.keys(base);
  let label = `${base.type}`;
  const roll = rng();
  if (roll < 0.12) {
    label += ' valid';
  } else if (roll < 0.3) {
    const key = pick(rng, keys);
    setKey(base, key, poolValue(rng));
    label += ` ${key}=pool`;
  } else if (roll < 0.4) {
    const key = pick(rng, keys);
    delete base[key];
    label += ` -${key}`;
  } else if (roll < 0.52) {
    const key = pick(rng, ['__proto__', 'constructor', 'prototype', 'extra', 'ü', '', 'type ', 'TYPE', 'polluted']);
    setKey(base, key, key === '__proto__' || key === 'constructor' ? { polluted: true, toString: 'x' } : poolValue(rng));
    label += ` +${key}`;
  } else if (roll < 0.6) {
    base.type = pick(rng, [
      ...TYPES.generation,
      ...TYPES.notifications,
      'PING',
      ' ping',
      'ping ',
      'ping\u0000',
      'pong',
      'connected',
      'error',
      '__proto__',
      'constructor',
      poolString(rng),
    ]);
    label = `type=${String(base.type).slice(0, 20)}`;
  } else if (roll < 0.66) {
    const text = pick(rng, [
      JSON.stringify([base]),
      JSON.stringify({ message: base }),
      JSON.stringify(JSON.stringify(base)),
      'null',
      '42',
      '"ping"',
      'true',
      '[]',
      '{}',
    ]);
    return { data: text, binary: false, label: `wrapped ${text.slice(0, 30)}` };
  } else if (roll < 0.82) {
    const text = JSON.stringify(base);
    const op = int(rng, 0, 8);
    const at = int(rng, 0, text.length);
    const mutated = [
      text.slice(0, at),
      `${text.slice(0, at)}${pick(rng, ['"', '{', '}', ',', ':', '\\', '\u0000', 'ü', ' '])}${text.slice(at)}`,
      text.replace('{', `{"type":"${pick(rng, ['ping', 'auth', 'nope'])}",`),
      `${text}${pick(rng, ['}', ' ', '\n', 'garbage', ',{}'])}`,
      `\ufeff${text}`,
      `  \n\t${text}\r\n `,
      text.replace(/"[^"]*"$|\}$/, 'NaN}'),
      text.replace('}', `,"deep":${'['.repeat(int(rng, 1000, 50_000))}}`), // never closed
      (() => {
        const depth = int(rng, 1000, 100_000);
        return text.replace('}', `,"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`);
      })(),
    ][op]!;
    return { data: mutated, binary: false, label: `${label} text-op ${op}` };
  } else if (roll < 0.9) {
    const which = int(rng, 0, 3);
    if (which === 0) return { data: '', binary: false, label: 'empty text' };
    if (which === 1) return { data: Buffer.alloc(0), binary: true, label: 'empty binary' };
    if (which === 2) return { data: Buffer.from(JSON.stringify(validMessage(rng, kind))), binary: true, label: 'JSON as binary' };
    return { data: Buffer.from(Array.from({ length: int(rng, 1, 512) }, () => int(rng, 0, 255))), binary: true, label: 'random binary' };
  } else {
    // Nested objects and arrays in every field.
    for (const key of keys) if (key !== 'type' || chance(rng, 0.2)) setKey(base, key, chance(rng, 0.5) ? [poolValue(rng)] : { v: poolValue(rng) });
    label += ' nested';
  }
  return { data: JSON.stringify(base), binary: false, label };
}

// ── The oracle: what the documented protocol answers ─────────────────────────────────────────────────────────────
interface Expected {
  type: string;
  code?: string;
}
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CUSTOM = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const invalid: Expected = { type: 'error', code: 'INVALID_MESSAGE' };

class Oracle {
  /** Jobs / channels the socket follows (the server's limits: 50 jobs, 32 channels). */
  readonly follows: Set<string>;

  constructor(readonly kind: Kind) {
    this.follows = new Set(kind === 'generation' ? [fx.ownJob] : ['general', `user_${ME}`]);
  }

  expect(frame: Frame): Expected {
    if (frame.binary) return invalid;
    // What the server sees: the UTF-8 bytes decoded (lone surrogates became U+FFFD on the way).
    const text = Buffer.from(frame.data as string, 'utf8').toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return invalid;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid;
    const m = value as Record<string, unknown>;
    if (typeof m.type !== 'string' || !TYPES[this.kind].includes(m.type)) return invalid;
    switch (m.type) {
      case 'ping':
        return { type: 'pong' };
      case 'auth': {
        if (typeof m.token !== 'string' || m.token.length < 1 || m.token.length > 8192) return invalid;
        if (m.token === fx.sameUserToken) return { type: 'authenticated' };
        if (m.token === fx.otherUserToken) return { type: 'error', code: 'PERMISSION_DENIED' };
        return { type: 'error', code: 'AUTHENTICATION_FAILED' };
      }
      case 'subscribe_job': {
        if (typeof m.job_id !== 'string' || !JOB_ID.test(m.job_id)) return invalid;
        if (m.job_id === fx.otherJob) return { type: 'error', code: 'PERMISSION_DENIED' };
        if (m.job_id !== fx.ownJob) return { type: 'error', code: 'NOT_FOUND' };
        this.follows.add(m.job_id);
        return { type: 'job_progress' };
      }
      case 'unsubscribe_job':
        if (typeof m.job_id !== 'string' || !JOB_ID.test(m.job_id)) return invalid;
        this.follows.delete(m.job_id);
        return { type: 'unsubscribed' };
      case 'subscribe_channel':
      case 'unsubscribe_channel': {
        if (typeof m.channel !== 'string' || m.channel.length < 1 || m.channel.length > 300) return invalid;
        const channel = m.channel;
        const access = this.channelAccess(channel);
        if (access === 'invalid') return invalid;
        if (m.type === 'unsubscribe_channel') {
          this.follows.delete(channel);
          return { type: 'unsubscribed' };
        }
        if (access === 'denied') return { type: 'error', code: 'PERMISSION_DENIED' };
        if (!this.follows.has(channel) && this.follows.size >= 32) return { type: 'error', code: 'RATE_LIMIT_EXCEEDED' };
        this.follows.add(channel);
        return { type: 'subscribed' };
      }
      case 'mark_read':
        if (typeof m.id !== 'string' || !UUID.test(m.id)) return invalid;
        return { type: 'error', code: m.id === fx.otherNotification ? 'PERMISSION_DENIED' : 'NOT_FOUND' };
    }
    return invalid;
  }

  /** The channel table of the README. */
  private channelAccess(name: string): 'ok' | 'denied' | 'invalid' {
    if (name === 'general') return 'ok';
    if (name.startsWith('user_')) {
      const id = name.slice(5);
      if (id.length === 0 || id.length > 256) return 'invalid';
      return id === ME ? 'ok' : 'denied';
    }
    if (name.startsWith('jobs.')) return JOB_ID.test(name.slice(5)) ? 'denied' : 'invalid';
    if (name.startsWith('presence.')) return JOB_ID.test(name.slice(9)) ? 'denied' : 'invalid';
    return CUSTOM.test(name) ? 'ok' : 'invalid';
  }
}

// ── The run ──────────────────────────────────────────────────────────────────────────────────────────────────────
describe(`JSON socket fuzzing (seed ${SEED}, ${FRAMES} frames per socket)`, () => {
  let server: TestServer;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const sockets: JsonWsClient[] = [];
  const streams: SseClient[] = [];
  // Another user's deliveries, published throughout the run.
  const bystander = { published: [] as string[], progress: [] as number[], stop: false, done: Promise.resolve() };
  let bystanderWs: JsonWsClient;
  let bystanderJobWs: JsonWsClient;
  let bystanderSse: SseClient;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    server = await startServer({
      DATABASE_URL: await createTestDatabase('jsonfuzz'),
      // The bucket would drop most frames of a fast fuzzer: rate limits have their own tests.
      WS_RATE_BURST: '1000000',
      WS_RATE_PER_SEC: '1000000',
      WEBSOCKET_MAX_CONNECTIONS_PER_USER: '1000',
      HTTP_RATE_LIMIT_MAX: '1000000',
    });
    const ownJob = (await createJob(server.url, { job_id: `fz-own-${SEED}`, user_id: ME })).job_id;
    const otherJob = (await createJob(server.url, { job_id: `fz-other-${SEED}`, user_id: OTHER })).job_id;
    const sent = await notify(server.url, { user_id: OTHER, title: 'private' });
    fx = {
      ownJob,
      otherJob,
      otherNotification: sent.body.notifications[0].id,
      sameUserToken: mintToken(ME, { expiresIn: 3600 }),
      otherUserToken: mintToken(OTHER),
    };

    bystanderWs = await ws(notificationsWs(server.url, mintToken(OTHER)));
    bystanderJobWs = await ws(generationWs(server.url, otherJob, mintToken(OTHER)));
    bystanderSse = await openSse(notificationsSse(server.url, mintToken(OTHER)));
    streams.push(bystanderSse);
    await Promise.all([bystanderWs.waitForType('connected'), bystanderJobWs.waitForType('job_progress'), bystanderSse.waitForCount(1)]);
    bystander.done = (async () => {
      for (let i = 1; !bystander.stop; i++) {
        const title = `live ${i}`;
        expect((await notify(server.url, { user_id: OTHER, title })).status).toBe(201);
        bystander.published.push(title);
        const progress = i / 100_000;
        expect((await postProgress(server.url, otherJob, { status: 'processing', progress })).status).toBe(200);
        bystander.progress.push(progress);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
  });
  afterAll(async () => {
    bystander.stop = true;
    await bystander.done.catch(() => {});
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
    for (const s of sockets) s.close();
    for (const s of streams) s.close();
    await server?.close();
  });

  async function ws(url: string): Promise<JsonWsClient> {
    const client = await openJsonWs(url);
    sockets.push(client);
    return client;
  }

  /** Sends frames in random batches and checks the answers one by one, in order. */
  async function fuzz(client: JsonWsClient, oracle: Oracle, frames: Frame[], from: number): Promise<string[]> {
    const problems: string[] = [];
    let next = from;
    const rng = mulberry32(SEED ^ 0x5bd1e995);
    for (let i = 0; i < frames.length; ) {
      const batch = frames.slice(i, i + int(rng, 1, 25));
      i += batch.length;
      const expected = batch.map((f) => oracle.expect(f));
      for (const frame of batch) client.ws.send(frame.data, { binary: frame.binary });
      await client.waitFor(() => client.messages.length >= next + batch.length || client.closeInfo !== undefined, 20_000, `${batch.length} answers`);
      batch.forEach((frame, k) => {
        const got = client.messages[next + k];
        const want = expected[k]!;
        const ok = got?.type === want.type && (want.code === undefined || got.error_code === want.code) && typeof got?.timestamp === 'string';
        if (!ok) {
          const sample = typeof frame.data === 'string' ? JSON.stringify(frame.data.slice(0, 160)) : `<${frame.data.length} bytes>`;
          problems.push(`[${frame.label}] ${sample}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)?.slice(0, 300)}`);
        }
      });
      next += batch.length;
      if (problems.length > 20 || client.closeInfo) break;
    }
    // Nothing more than one answer per frame.
    await new Promise((r) => setTimeout(r, 100));
    if (client.messages.length !== next) problems.push(`extra messages: ${JSON.stringify(client.messages.slice(next)).slice(0, 500)}`);
    if (client.closeInfo) problems.push(`socket closed: ${JSON.stringify(client.closeInfo)}`);
    return problems;
  }

  const frames = (kind: Kind, count: number, salt: number) => {
    const rng = mulberry32(SEED + salt);
    return Array.from({ length: count }, () => generateFrame(rng, kind));
  };

  it.each(['generation', 'notifications'] as Kind[])(
    `%s socket (seed ${SEED}): every frame after auth gets its one documented answer, in order; the socket lives on`,
    async (kind) => {
      const client = await ws(
        kind === 'generation' ? generationWs(server.url, fx.ownJob, mintToken(ME)) : notificationsWs(server.url, mintToken(ME)),
      );
      await client.waitForType(kind === 'generation' ? 'job_progress' : 'connected');
      const oracle = new Oracle(kind);
      const problems = await fuzz(client, oracle, frames(kind, FRAMES, kind === 'generation' ? 1 : 2), client.messages.length);
      expect(problems, `seed ${SEED}`).toEqual([]);
      const from = client.messages.length;
      client.send({ type: 'ping' });
      await client.waitFor((m) => m.type === 'pong', 5000, 'pong', from);
    },
  );

  it.each(['generation', 'notifications'] as Kind[])(
    `%s socket (seed ${SEED}): frames sent before the connection is admitted wait for it, then get their answers in order`,
    async (kind) => {
      const token = mintToken(ME);
      const client = await ws(kind === 'generation' ? generationWs(server.url, fx.ownJob, token) : notificationsWs(server.url, token));
      const oracle = new Oracle(kind);
      const early = frames(kind, Math.max(40, FRAMES / 5), kind === 'generation' ? 3 : 4).filter((f) => f.data.length < 100_000);
      const expected = early.map((f) => oracle.expect(f));
      for (const frame of early) client.ws.send(frame.data, { binary: frame.binary });
      const opening = kind === 'generation' ? ['connected', 'job_progress'] : ['connected'];
      await client.waitFor(() => client.messages.length >= opening.length + early.length, 20_000, 'every answer');
      expect(client.messages.slice(0, opening.length).map((m) => m.type)).toEqual(opening);
      const got = client.messages.slice(opening.length).map((m) => ({ type: m.type, ...(m.type === 'error' ? { code: m.error_code } : {}) }));
      expect(got, `seed ${SEED}`).toEqual(expected);
      expect(client.closeInfo).toBeUndefined();
    },
  );

  it(`connections whose token is refused answer no frame (seed ${SEED}): one AUTHENTICATION_FAILED, then 4401`, async () => {
    for (const kind of ['generation', 'notifications'] as Kind[]) {
      for (const token of ['garbage', mintToken(ME, { expiresIn: -5 }), mutateToken(mulberry32(SEED), mintToken(ME))]) {
        const client = await ws(kind === 'generation' ? generationWs(server.url, fx.ownJob, token) : notificationsWs(server.url, token));
        for (const frame of frames(kind, 30, 5)) if (client.ws.readyState === client.ws.OPEN) client.ws.send(frame.data, { binary: frame.binary });
        expect(await client.closed).toMatchObject({ code: 4401 });
        expect(client.messages).toHaveLength(1);
        expect(client.messages[0]).toMatchObject({ type: 'error', error_code: 'AUTHENTICATION_FAILED' });
      }
    }
  });

  it('protocol-level abuse closes only the abuser: invalid UTF-8 text (1007), a frame over 1 MiB (PAYLOAD_TOO_LARGE, 1009)', async () => {
    const utf8 = await ws(notificationsWs(server.url, mintToken(ME)));
    await utf8.waitForType('connected');
    // A text frame with bytes that are not UTF-8 (ws validates text frames).
    (utf8.ws as unknown as { _sender: { sendFrame(list: Buffer[], cb?: () => void): void } })._sender.sendFrame([
      Buffer.from([0x81, 0x84, 0, 0, 0, 0, 0xc3, 0x28, 0xa0, 0xa1]),
    ]);
    expect((await utf8.closed).code).toBe(1007);

    const big = await ws(generationWs(server.url, fx.ownJob, mintToken(ME)));
    await big.waitForType('job_progress');
    big.send(JSON.stringify({ type: 'ping', pad: 'z'.repeat(1024 * 1024) }));
    expect((await big.closed).code).toBe(1009);
    expect(big.messages.find((m) => m.type === 'error')).toMatchObject({ error_code: 'PAYLOAD_TOO_LARGE' });
    expect((await call(server.url, 'GET', '/health')).status).toBe(200);
  });

  it(`afterwards (seed ${SEED}): no crash, no unhandled rejection, no INTERNAL_ERROR, prototype intact, the other user got every delivery in order`, async () => {
    bystander.stop = true;
    await bystander.done;
    expect(bystander.published.length).toBeGreaterThan(5);
    const titles = () => bystanderWs.messages.filter((m) => m.type === 'notification').map((m) => m.title);
    await bystanderWs.waitFor(() => titles().length >= bystander.published.length + 1, 10_000, 'every notification');
    expect(titles()).toEqual(['private', ...bystander.published]);
    await bystanderSse.waitForCount(bystander.published.length + 1, 10_000);
    expect(bystanderSse.events.map((e) => e.json?.title)).toEqual(['private', ...bystander.published]);
    const last = bystander.progress.at(-1);
    await bystanderJobWs.waitFor((m) => m.type === 'job_progress' && m.data.progress === last, 10_000, 'the last job state');
    expect(
      bystanderJobWs.messages
        .filter((m) => m.type === 'job_progress')
        .slice(1)
        .map((m) => m.data.progress),
    ).toEqual(bystander.progress);
    for (const client of [bystanderWs, bystanderJobWs]) expect(client.closeInfo).toBeUndefined();

    expect(unhandled).toEqual([]);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await call(server.url, 'GET', '/health')).status).toBe(200);
    const metrics = await call(server.url, 'GET', '/metrics', { token: adminToken() });
    expect(metrics.body).not.toMatch(/deckhand_realtime_errors_total\{[^}]*code="INTERNAL_ERROR"[^}]*\} [1-9]/);
  });
});
