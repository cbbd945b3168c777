/**
 * Security matrix (tokens and origins): every forged, expired or mis-addressed token is refused with
 * AUTHENTICATION_FAILED on EVERY entry point (each REST route that needs auth, both JSON WebSockets, both SSE streams,
 * /collab), whether it comes as `Authorization: Bearer` or `?token=` (or as the Hocuspocus token), while a valid token
 * passes each of them (so a route that refuses everything cannot pass). Cross-site WebSocket hijacking: with
 * CORS_ORIGINS set, a foreign Origin is refused on every WebSocket endpoint (collab included) and on SSE, even with a
 * valid token, and the listed origin works. The server is a child process configured with an RS256 public key, an
 * audience and an issuer, logging at debug (a line per request): once the whole matrix ran, no piece of any token used
 * appears in its output. Tokens are forged by hand (node:crypto), as an attacker would, not with the library the server
 * verifies with. One table lists the entry points, one the bad tokens.
 */
import { constants, createHmac, generateKeyPairSync, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/collab-client.js';
import { createTestDatabase } from '../helpers/database.js';
import { authFrame, MessageType, rawClient, syncFrame, typeOf } from '../helpers/hocuspocus-frames.js';
import { openJsonWs } from '../helpers/json-ws.js';
import { startServerProcess, type ServerProcess } from '../helpers/server.js';
import { openSse } from '../helpers/sse.js';
import { call } from '../realtime/support.js';

const AUDIENCE = 'deckhand-api';
const ISSUER = 'https://auth.example';
const ALLOWED_ORIGIN = 'https://app.example';

// ── Keys and hand-made tokens ────────────────────────────────────────────────────────────────────────────────────
const server = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attackerEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PUBLIC_PEM = server.publicKey.export({ type: 'spki', format: 'pem' }).toString();

const b64u = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
type Signer = (input: string) => string;
const rs256 =
  (key: KeyObject): Signer =>
  (input) =>
    cryptoSign('sha256', Buffer.from(input), key).toString('base64url');
const es256 =
  (key: KeyObject): Signer =>
  (input) =>
    cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
const hs256 =
  (secret: string | Buffer): Signer =>
  (input) =>
    createHmac('sha256', secret).update(input).digest('base64url');

function forge(header: Record<string, unknown>, claims: Record<string, unknown>, signer: Signer | null): string {
  const input = `${b64u({ typ: 'JWT', ...header })}.${b64u(claims)}`;
  return `${input}.${signer ? signer(input) : ''}`;
}

const now = () => Math.floor(Date.now() / 1000);
/** Everything a valid token has; every bad token claims the most it could (admin). */
const claims = (overrides: Record<string, unknown> = {}) => {
  const base: Record<string, unknown> = { sub: 'mallory', name: 'Mallory', scope: 'admin', aud: AUDIENCE, iss: ISSUER, iat: now(), exp: now() + 600 };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
};
const valid = () => forge({ alg: 'RS256' }, claims(), rs256(server.privateKey));

function flipSignature(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const i = Math.floor(s.length / 2);
  return `${h}.${p}.${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
}

const BAD_TOKENS: Record<string, () => string> = {
  'alg none': () => forge({ alg: 'none' }, claims(), null),
  'alg None (case variant)': () => forge({ alg: 'None' }, claims(), null),
  'alg none with a signature': () => forge({ alg: 'none' }, claims(), rs256(server.privateKey)),
  'HS256 signed with the server public key (PEM) as secret': () => forge({ alg: 'HS256' }, claims(), hs256(PUBLIC_PEM)),
  'HS256 signed with the trimmed public key': () => forge({ alg: 'HS256' }, claims(), hs256(PUBLIC_PEM.trim())),
  'HS256 signed with the public key (DER)': () => forge({ alg: 'HS256' }, claims(), hs256(server.publicKey.export({ type: 'spki', format: 'der' }))),
  expired: () => forge({ alg: 'RS256' }, claims({ iat: now() - 3600, exp: now() - 60 }), rs256(server.privateKey)),
  'nbf in the future': () => forge({ alg: 'RS256' }, claims({ nbf: now() + 3600 }), rs256(server.privateKey)),
  'wrong aud': () => forge({ alg: 'RS256' }, claims({ aud: 'another-api' }), rs256(server.privateKey)),
  'no aud': () => forge({ alg: 'RS256' }, claims({ aud: undefined }), rs256(server.privateKey)),
  'wrong iss': () => forge({ alg: 'RS256' }, claims({ iss: 'https://evil.example' }), rs256(server.privateKey)),
  'no iss': () => forge({ alg: 'RS256' }, claims({ iss: undefined }), rs256(server.privateKey)),
  'missing exp': () => forge({ alg: 'RS256' }, claims({ exp: undefined }), rs256(server.privateKey)),
  'exp as a string': () => forge({ alg: 'RS256' }, claims({ exp: String(now() + 600) }), rs256(server.privateKey)),
  'bad signature (one character changed)': () => flipSignature(valid()),
  'signature of another token': () =>
    `${valid().split('.').slice(0, 2).join('.')}.${forge({ alg: 'RS256' }, claims({ sub: 'other' }), rs256(server.privateKey)).split('.')[2]}`,
  'signed with another RSA key': () => forge({ alg: 'RS256' }, claims(), rs256(attacker.privateKey)),
  'embedded jwk of the attacker key': () =>
    forge({ alg: 'RS256', jwk: attacker.publicKey.export({ format: 'jwk' }) }, claims(), rs256(attacker.privateKey)),
  'ES256 (allowed algorithm) with an attacker EC key': () => forge({ alg: 'ES256' }, claims(), es256(attackerEc.privateKey)),
  'PS256 with the right key': () =>
    forge({ alg: 'PS256' }, claims(), (input) =>
      cryptoSign('sha256', Buffer.from(input), { key: server.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }).toString(
        'base64url',
      ),
    ),
  'no sub': () => forge({ alg: 'RS256' }, claims({ sub: undefined }), rs256(server.privateKey)),
};

// ── Entry points ─────────────────────────────────────────────────────────────────────────────────────────────────
type Via = 'header' | 'query';
interface Outcome {
  /** The connection or request got through authentication. */
  admitted: boolean;
  /** The error code it was refused with, if any. */
  code?: string;
  /** HTTP status or close code. */
  status?: number;
  detail: string;
}
interface EntryPoint {
  name: string;
  attempt(token: string, via: Via, origin?: string): Promise<Outcome>;
}

let proc: ServerProcess;
let jobId: string;
const PRESENTATION = 'matrix';
const wsBase = () => proc.url.replace(/^http/, 'ws');
const withQuery = (url: string, token: string) => `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
/** Every token this file sent anywhere (for the log check). */
const used = new Set<string>();

/** `{job}` in the path is the job created for the matrix. */
const fill = (template: string) => template.replace('{job}', jobId);

function rest(method: string, path: string, body?: unknown): EntryPoint {
  return {
    name: `${method} ${path}`,
    async attempt(token, via) {
      used.add(token);
      const res = await call(proc.url, method, via === 'query' ? withQuery(fill(path), token) : fill(path), {
        token: via === 'header' ? token : undefined,
        body,
      });
      return {
        admitted: res.status !== 401,
        code: res.body?.error_code,
        status: res.status,
        detail: `${res.status} ${JSON.stringify(res.body).slice(0, 200)}`,
      };
    },
  };
}

function jsonWs(name: string, path: string, ready: string): EntryPoint {
  return {
    name,
    async attempt(token, via, origin) {
      used.add(token);
      const url = `${wsBase()}${fill(path)}`;
      const client = await openJsonWs(via === 'query' ? withQuery(url, token) : url, {
        headers: via === 'header' ? { authorization: `Bearer ${token}` } : undefined,
        origin,
      });
      const closed = client.closed.then((c) => c);
      const first = await Promise.race([client.waitFor((m) => m?.type === ready || m?.type === 'error', 5000), closed]);
      if ((first as { type?: string }).type === ready) {
        client.close();
        return { admitted: true, detail: ready };
      }
      const close = await Promise.race([closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000))]);
      client.close();
      const error = client.messages.find((m) => m?.type === 'error');
      return {
        admitted: false,
        code: error?.error_code,
        status: close?.code,
        detail: `close ${close?.code} after ${JSON.stringify(client.messages).slice(0, 300)}`,
      };
    },
  };
}

function sse(name: string, path: string): EntryPoint {
  return {
    name,
    async attempt(token, via, origin) {
      used.add(token);
      const headers: Record<string, string> = {};
      if (via === 'header') headers.authorization = `Bearer ${token}`;
      if (origin) headers.origin = origin;
      const url = `${proc.url}${fill(path)}`;
      const stream = await openSse(via === 'query' ? withQuery(url, token) : url, headers);
      stream.close();
      return {
        admitted: stream.status === 200,
        code: stream.error?.error_code,
        status: stream.status,
        detail: `${stream.status} ${JSON.stringify(stream.error ?? '')}`,
      };
    },
  };
}

/** A `ws` WebSocket class that sends extra upgrade headers (the provider constructs it with the URL only). */
function socketClass(headers: Record<string, string>, origin?: string) {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, { headers, ...(origin ? { origin } : {}) });
    }
  };
}

const collab: EntryPoint = {
  name: 'WS /collab (Hocuspocus)',
  async attempt(token, via, origin) {
    used.add(token);
    const url = `${wsBase()}/api/v1/collab`;
    const failures: string[] = [];
    const closes: number[] = [];
    // `header` sends the token as the provider's token (the Hocuspocus way); `query` puts it on the socket URL
    // with an empty provider token.
    const socket = new HocuspocusProviderWebsocket({
      url: via === 'query' ? withQuery(url, token) : url,
      WebSocketPolyfill: socketClass({}, origin),
      delay: 100,
      minDelay: 100,
      maxAttempts: 1,
    });
    const provider = new HocuspocusProvider({
      websocketProvider: socket,
      name: `presentation:${PRESENTATION}`,
      document: new Y.Doc(),
      token: via === 'header' ? token : '',
      onAuthenticationFailed: ({ reason }) => failures.push(reason),
      onClose: ({ event }) => closes.push(event.code),
    });
    provider.attach();
    try {
      const deadline = Date.now() + 5000;
      while (!provider.isSynced && failures.length === 0 && closes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      if (provider.isSynced) return { admitted: true, detail: 'synced' };
      return {
        admitted: false,
        code: failures[0],
        status: closes[0],
        detail: `authenticationFailed ${JSON.stringify(failures)} closes ${JSON.stringify(closes)}`,
      };
    } finally {
      provider.destroy();
      socket.destroy();
    }
  },
};

const P = `/api/v1/presentations/${PRESENTATION}`;
const ENTRY_POINTS: EntryPoint[] = [
  rest('PUT', P, { title: 'Matrix' }),
  rest('GET', P),
  rest('GET', `${P}/members`),
  rest('PUT', `${P}/members/bob`, { role: 'viewer' }),
  rest('DELETE', `${P}/members/carol`),
  rest('GET', `${P}/presence`),
  rest('GET', `${P}/locks`),
  rest('POST', `${P}/locks`, { slide_id: 's1' }),
  rest('GET', `${P}/locks/s1`),
  rest('POST', `${P}/locks/s2`),
  rest('DELETE', `${P}/locks/s2`),
  rest('POST', '/api/v1/jobs', { user_id: 'mallory', kind: 'k' }),
  rest('GET', '/api/v1/jobs/{job}'),
  rest('POST', '/api/v1/jobs/{job}/progress', { status: 'processing', progress: 0.5 }),
  rest('POST', '/api/v1/notifications', { user_id: 'mallory', title: 't', message: 'm' }),
  rest('GET', '/api/v1/notifications'),
  rest('POST', '/api/v1/notifications/00000000-0000-4000-8000-000000000000/read'),
  rest('POST', `${P}/chat`, { text: 'matrix' }),
  rest('GET', `${P}/chat`),
  rest('GET', `${P}/chat/unread`),
  rest('GET', `${P}/chat/reads`),
  rest('POST', `${P}/chat/read`, { message_id: '00000000-0000-4000-8000-000000000000' }),
  rest('POST', `${P}/chat/typing`, { typing: false }),
  rest('PATCH', '/api/v1/chat/00000000-0000-4000-8000-000000000000', { text: 'x' }),
  rest('DELETE', '/api/v1/chat/00000000-0000-4000-8000-000000000000'),
  rest('PUT', '/api/v1/status', { status: 'busy' }),
  rest('GET', '/api/v1/status/mallory'),
  rest('GET', '/api/v1/realtime/stats'),
  rest('GET', '/metrics'),
  rest('GET', '/api/v1/jobs'),
  rest('POST', '/api/v1/jobs/{job}/cancel'),
  rest('GET', '/api/v1/presentations'),
  // Another presentation than the one the other entry points use: a valid token gets 404 here, never a deletion.
  rest('DELETE', '/api/v1/presentations/matrix-not-there'),
  rest('POST', '/api/v1/notifications/read-all'),
  rest('DELETE', '/api/v1/notifications/00000000-0000-4000-8000-000000000000'),
  jsonWs('WS /api/v1/realtime/generation/{job}', '/api/v1/realtime/generation/{job}', 'connected'),
  jsonWs('WS /api/v1/realtime/notifications', '/api/v1/realtime/notifications', 'connected'),
  sse('SSE /api/v1/realtime/sse/generation/{job}', '/api/v1/realtime/sse/generation/{job}'),
  sse('SSE /api/v1/realtime/sse/notifications', '/api/v1/realtime/sse/notifications'),
  collab,
];
const VIAS: Via[] = ['header', 'query'];

describe('security matrix: every bad token on every entry point; cross-site WebSocket hijacking; no token in logs', () => {
  beforeAll(async () => {
    proc = await startServerProcess({
      DATABASE_URL: await createTestDatabase('secmatrix'),
      JWT_SECRET: '', // the helper's default; this server verifies RS256 with a public key only
      JWT_PUBLIC_KEY: PUBLIC_PEM,
      JWT_AUDIENCE: AUDIENCE,
      JWT_ISSUER: ISSUER,
      CORS_ORIGINS: ALLOWED_ORIGIN,
      LOG_LEVEL: 'debug',
      HTTP_RATE_LIMIT_MAX: '1000000',
      WEBSOCKET_MAX_CONNECTIONS_PER_USER: '1000',
    });
    const token = valid();
    used.add(token);
    expect((await call(proc.url, 'PUT', `/api/v1/presentations/${PRESENTATION}`, { token, body: {} })).status).toBe(201);
    for (const member of ['bob', 'carol']) {
      expect(
        (await call(proc.url, 'PUT', `/api/v1/presentations/${PRESENTATION}/members/${member}`, { token, body: { role: 'editor' } })).status,
      ).toBe(200);
    }
    const job = await call(proc.url, 'POST', '/api/v1/jobs', { token, body: { job_id: `matrix-${randomUUID()}`, user_id: 'mallory', kind: 'k' } });
    expect(job.status).toBe(201);
    jobId = job.body.job_id;
  });
  afterAll(async () => {
    await proc?.terminate();
  });

  it('a valid token (RS256, right audience and issuer) gets through every entry point, by header and by query', async () => {
    const failures: string[] = [];
    for (const entry of ENTRY_POINTS) {
      for (const via of VIAS) {
        const outcome = await entry.attempt(valid(), via);
        const ok = outcome.admitted && (outcome.status === undefined || outcome.status < 500) && outcome.code !== 'PERMISSION_DENIED';
        if (!ok) failures.push(`${entry.name} (${via}): ${outcome.detail}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it.each(Object.keys(BAD_TOKENS))('%s: AUTHENTICATION_FAILED on every entry point, by header and by query', async (name) => {
    const failures: string[] = [];
    for (const entry of ENTRY_POINTS) {
      for (const via of VIAS) {
        const token = BAD_TOKENS[name]!();
        const outcome = await entry.attempt(token, via);
        const refused = !outcome.admitted && outcome.code === 'AUTHENTICATION_FAILED';
        const statusOk = outcome.status === undefined || outcome.status === 401 || outcome.status === 4401;
        if (!refused || !statusOk) failures.push(`${entry.name} (${via}): ${outcome.detail}`);
        if (outcome.detail.includes(token) || (token.split('.')[2] && outcome.detail.includes(token.split('.')[2]!))) {
          failures.push(`${entry.name} (${via}): the answer echoes the token`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('cross-site WebSocket hijacking: a foreign Origin is refused on every WebSocket endpoint and SSE, even with a valid token; the listed origin works', async () => {
    const foreign = [
      'https://evil.example',
      'null',
      'https://app.example.evil.example',
      'http://app.example',
      'https://app.example:8443',
      'https://APP.EXAMPLE.evil',
    ];
    const browserFacing = ENTRY_POINTS.filter((e) => e.name.startsWith('WS ') || e.name.startsWith('SSE '));
    expect(browserFacing).toHaveLength(5);
    const failures: string[] = [];
    for (const entry of browserFacing) {
      for (const origin of foreign) {
        const outcome = await entry.attempt(valid(), 'query', origin);
        if (outcome.admitted) failures.push(`${entry.name} admitted Origin ${origin}`);
        else if (entry === collab) {
          if (outcome.status !== 4403) failures.push(`${entry.name} Origin ${origin}: ${outcome.detail}`);
        } else if (outcome.code !== 'PERMISSION_DENIED' || (outcome.status !== 403 && outcome.status !== 4403)) {
          failures.push(`${entry.name} Origin ${origin}: ${outcome.detail}`);
        }
      }
      const allowed = await entry.attempt(valid(), 'query', ALLOWED_ORIGIN);
      if (!allowed.admitted) failures.push(`${entry.name} refused the allowed origin: ${allowed.detail}`);
    }
    // Raw upgrade on /collab with a foreign Origin: closed 4403 before any Hocuspocus message.
    const raw = new WebSocket(`${wsBase()}/api/v1/collab?token=${encodeURIComponent(valid())}`, { origin: 'https://evil.example' });
    const received: Buffer[] = [];
    raw.on('message', (data: Buffer) => received.push(data));
    const code = await new Promise<number>((resolve) => raw.on('close', (c) => resolve(c)));
    expect(code).toBe(4403);
    expect(received).toHaveLength(0);
    expect(failures).toEqual([]);
  });

  it('after the whole matrix, no piece of any token used is in the server output (debug level, request lines on)', async () => {
    await new Promise((r) => setTimeout(r, 500));
    const output = proc.output();
    expect(output).toContain('incoming request');
    expect(output).toContain('/api/v1/realtime/sse/notifications');
    expect(used.size).toBeGreaterThan(Object.keys(BAD_TOKENS).length);
    const leaks: string[] = [];
    for (const token of used) {
      const [, payload = '', signature = ''] = token.split('.');
      const pieces = [token, payload.slice(Math.floor(payload.length / 2) - 12, Math.floor(payload.length / 2) + 12)];
      if (signature.length >= 16) pieces.push(signature, signature.slice(-24));
      for (const piece of pieces) if (piece.length >= 16 && output.includes(piece)) leaks.push(piece);
    }
    expect(leaks).toEqual([]);
  });

  it("every line the server wrote is a structured log line (Hocuspocus' console output included), but the start-up banner", async () => {
    // A member sends a malformed update: Hocuspocus reports it (and the connection it closes) with console.error.
    const raw = await rawClient(`${wsBase()}/api/v1/collab`);
    const token = valid();
    used.add(token);
    raw.send(authFrame(`presentation:${PRESENTATION}`, token));
    await waitFor(() => raw.received.some((f) => typeOf(f) === MessageType.Auth), 5000, 'authenticated');
    raw.send(syncFrame(`presentation:${PRESENTATION}`, 2, Uint8Array.from([1, 200, 1, 255, 255, 7, 9])));
    expect(await raw.closed).toBe(1007);
    await new Promise((r) => setTimeout(r, 300));

    const lines = proc
      .output()
      .split('\n')
      .filter((line) => line.trim().length > 0);
    const bannerStart = lines.findIndex((line) => line.startsWith('Deckhand listening on'));
    expect(bannerStart).toBeGreaterThanOrEqual(0);
    let bannerEnd = bannerStart;
    while (bannerEnd < lines.length && !lines[bannerEnd]!.startsWith('{')) bannerEnd++;
    const isJson = (line: string) => {
      try {
        return typeof JSON.parse(line) === 'object';
      } catch {
        return false;
      }
    };
    const unstructured = lines.filter((line, i) => (i < bannerStart || i >= bannerEnd) && !isJson(line));
    expect(unstructured).toEqual([]);
    // Hocuspocus' reports are there, as error lines with the exception as `err`.
    const fromConsole = lines
      .filter(isJson)
      .map((line) => JSON.parse(line) as { source?: string; level?: number; msg?: string; err?: { type?: string } });
    const closing = fromConsole.find((e) => e.source === 'console' && e.msg?.startsWith('closing connection'));
    expect(closing).toMatchObject({ level: 50, err: { type: 'InvalidUpdateError' } });
  });
});
