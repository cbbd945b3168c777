/**
 * WebSocket upgrades of the JSON sockets (job progress, notifications), taken before Fastify's router: the routes
 * stay declared in Fastify (so they are in the OpenAPI, and a plain GET gets its error), but an upgrade to one of
 * them is handed to `ws` here, and the socket's session keeps only what it needs of the request (`Upgrade`: the
 * path parameters, the token and resume point, Origin) instead of Fastify's request and reply and Node's
 * IncomingMessage and ServerResponse, which @fastify/websocket keeps for the socket's lifetime (about 5 KB per idle
 * subscriber; docs/performance.md). Every other upgrade (/collab) goes on to @fastify/websocket as before.
 *
 * What Fastify did for these upgrades is done here: the path parameters are validated against the route's schema
 * (400 with the JSON error), and the HTTP rate limit is applied (429), both as plain HTTP answers before the upgrade.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { TObject } from 'typebox';
import { Compile } from 'typebox/compile';
import type { WebSocket } from 'ws';
import { errorMessage, HTTP_STATUS_BY_CODE, type ErrorCode } from '../../shared/errors.js';
import { type HttpRateLimit, type RateCount, secondsLeft } from '../limits/index.js';

/** What a JSON socket's session gets of its upgrade request (copies: none of it refers to the request). */
export interface Upgrade {
  params: Record<string, string>;
  /** `token` and `last_event_id` of the query string. */
  query: { token?: string; last_event_id?: string };
  headers: { origin?: string; authorization?: string; 'last-event-id'?: string };
  /** The upgraded connection's byte stream (the one ws reads and writes): shared event frames are written on it whole. */
  stream?: Duplex;
}

export interface JsonSocketRoute {
  /** The route's URL as declared to Fastify, e.g. `/api/v1/realtime/generation/:job_id`. */
  url: string;
  /** The schema of its path parameters (the same as the Fastify route's). */
  params?: TObject;
  open(socket: WebSocket, upgrade: Upgrade): void;
}

interface CompiledRoute {
  segments: string[];
  check: ((value: unknown) => boolean) | undefined;
  open: JsonSocketRoute['open'];
}

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

type Match = { route: CompiledRoute; params: Record<string, string>; search: string };

/** A fresh copy of a string: a substring of the request URL would keep the whole URL (and its token) in memory. */
function detach(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : detach(first);
}

export class JsonSocketUpgrades {
  private readonly routes: CompiledRoute[] = [];
  private installed = false;

  /** Takes upgrades to `route` from now on (installs the dispatcher in front of @fastify/websocket's on first use). */
  add(app: FastifyInstance, route: JsonSocketRoute): void {
    this.routes.push({
      segments: route.url.split('/'),
      check: route.params
        ? (
            (compiled) => (value: unknown) =>
              compiled.Check(value)
          )(Compile(route.params))
        : undefined,
      open: route.open,
    });
    if (this.installed) return;
    this.installed = true;
    const server = app.server;
    const others = server.listeners('upgrade') as UpgradeListener[];
    server.removeAllListeners('upgrade');
    const limit = app.httpRateLimit;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const match = this.match(req);
      if (!match) {
        for (const listener of others) listener.call(server, req, socket, head);
        return;
      }
      this.take(app, limit, match, req, socket, head);
    });
  }

  private match(req: IncomingMessage): Match | null {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const parts = path.split('/');
    for (const route of this.routes) {
      if (route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const segment = route.segments[i]!;
        if (segment.startsWith(':')) {
          try {
            params[segment.slice(1)] = detach(decodeURIComponent(parts[i]!));
          } catch {
            params[segment.slice(1)] = '\u0000';
          }
        } else ok = segment === parts[i];
      }
      if (ok) return { route, params, search: q < 0 ? '' : url.slice(q + 1) };
    }
    return null;
  }

  private take(app: FastifyInstance, limit: HttpRateLimit | undefined, match: Match, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const guard = () => socket.destroy();
    socket.on('error', guard);
    if (req.method !== 'GET') {
      refuse(socket, 'INVALID_MESSAGE', 'a WebSocket upgrade is a GET');
      return;
    }
    if (match.route.check && !match.route.check(match.params)) {
      refuse(socket, 'INVALID_MESSAGE', 'invalid path parameter');
      return;
    }
    // The HTTP rate limit of every request (same counts, key and limit: ../limits/http-rate-limit.ts).
    const next = (count: RateCount | undefined) => {
      if (count && limit!.exceeded(count)) refuse(socket, 'RATE_LIMIT_EXCEEDED', `rate limit exceeded, retry in ${secondsLeft(count)} s`);
      else this.open(app, match, req, socket, head, guard);
    };
    const count = limit?.count(req.socket.remoteAddress ?? '');
    if (count instanceof Promise) void count.then(next);
    else next(count);
  }

  private open(app: FastifyInstance, match: Match, req: IncomingMessage, socket: Duplex, head: Buffer, guard: () => void): void {
    if (socket.destroyed) return;
    const search = new URLSearchParams(match.search);
    const token = search.get('token');
    const lastEventId = search.get('last_event_id');
    const upgrade: Upgrade = {
      params: match.params,
      query: {
        ...(token ? { token: detach(token) } : {}),
        ...(lastEventId ? { last_event_id: detach(lastEventId) } : {}),
      },
      headers: {
        origin: firstHeader(req.headers.origin),
        authorization: firstHeader(req.headers.authorization),
        'last-event-id': firstHeader(req.headers['last-event-id']),
      },
    };
    const open = match.route.open;
    app.websocketServer.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', guard);
      open(ws, { ...upgrade, stream: socket });
    });
  }
}

/** A plain HTTP answer to an upgrade that is refused before it happens. */
function refuse(socket: Duplex, code: ErrorCode, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(errorMessage(code, message));
  const status = HTTP_STATUS_BY_CODE[code];
  socket.end(
    `HTTP/1.1 ${status} ${status === 429 ? 'Too Many Requests' : 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
