/**
 * `WS /api/v1/collab`: the Hocuspocus core mounted on a @fastify/websocket route (one port for everything).
 * Frames go to Hocuspocus as they are; oversized frames are refused (close 1009: by ws past the server-wide
 * maxPayload, here past COLLAB_MAX_FRAME_BYTES), text frames are refused (1003), a socket with more than
 * COLLAB_MAX_INFLIGHT_BYTES of frames waiting to be handled is closed (4429, see ./inflight.ts), and a reader whose
 * outbound buffer passes the cap is disconnected.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '../../shared/errors.js';
import type { Config } from '../config.js';
import { isOriginAllowed } from '../http/origin.js';
import { readFrameHeader } from './frame.js';
import type { CollabService } from './index.js';

/** The upgrade headers that hooks may read: the bearer token, and who and where the connection comes from. */
const HOOK_HEADERS = ['authorization', 'origin', 'user-agent', 'x-forwarded-for', 'x-request-id'] as const;

/**
 * What Hocuspocus keeps of the upgrade for the connection's lifetime. Hocuspocus 4.7 reads two things of its
 * `request`: `url` (the query parameters, `getParameters`) and `headers` (hook payloads' `requestHeaders`), and
 * Deckhand's hooks read only `authorization` and `?token=`. A whole web `Request` costs ~1.8 KB per connection
 * (the Fastify request of the upgrade is retained by @fastify/websocket anyway), this ~0.5 KB.
 */
function hookRequest(request: FastifyRequest): Request {
  const headers = new Headers();
  for (const name of HOOK_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) headers.set(name, value.join(', '));
  }
  return { url: request.url, headers } as unknown as Request;
}

/**
 * The socket as Hocuspocus sees it: sends refuse to grow the outbound buffer past the cap (the slow reader is
 * disconnected instead, and reconnects and resyncs when it can keep up).
 */
function guardedSocket(socket: WebSocket, outboundCap: number, onSlow: () => void) {
  return {
    get readyState() {
      return socket.readyState;
    },
    send(data: Uint8Array) {
      if (socket.bufferedAmount > outboundCap) {
        onSlow();
        socket.close(CLOSE_CODES.RATE_LIMIT_EXCEEDED.code, 'RATE_LIMIT_EXCEEDED: slow reader');
        return;
      }
      socket.send(data);
    },
    close(code?: number, reason?: string) {
      socket.close(code, reason);
    },
  };
}

export function registerCollabRoute(app: FastifyInstance, collab: CollabService, config: Config): void {
  // A whole-document sync message may legitimately be as large as a frame: allow two frames in flight.
  const outboundCap = Math.max(config.limits.outboundBufferBytes, 2 * config.limits.collabMaxFrameBytes);
  const stats = { slowReaders: 0, refusedFrames: 0 };

  app.get('/api/v1/collab', { websocket: true, schema: { hide: true } }, (socket: WebSocket, request: FastifyRequest) => {
    if (collab.closing) {
      socket.close(CLOSE_CODES.SERVER_SHUTDOWN.code, CLOSE_CODES.SERVER_SHUTDOWN.reason);
      return;
    }
    if (!isOriginAllowed(config.corsOrigins, request.headers.origin)) {
      socket.close(CLOSE_CODES.ORIGIN_NOT_ALLOWED.code, CLOSE_CODES.ORIGIN_NOT_ALLOWED.reason);
      return;
    }
    // A key of our own per socket: hooks see it in their context (per-user slots are per socket).
    const socketKey = randomUUID();
    const client = collab.hocuspocus.handleConnection(
      guardedSocket(socket, outboundCap, () => stats.slowReaders++),
      hookRequest(request),
      { socketKey },
    );
    collab.sockets.set(socket, client);
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (!isBinary) {
        stats.refusedFrames++;
        socket.close(1003, 'INVALID_MESSAGE: binary Hocuspocus frames only');
        return;
      }
      const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      // ws enforces the larger of the JSON and collab limits for the whole server; enforce collab's own here.
      if (bytes.byteLength > config.limits.collabMaxFrameBytes) {
        stats.refusedFrames++;
        socket.close(CLOSE_CODES.MESSAGE_TOO_BIG.code, CLOSE_CODES.MESSAGE_TOO_BIG.reason);
        return;
      }
      const header = readFrameHeader(bytes);
      if ('problem' in header) {
        stats.refusedFrames++;
        socket.close(1007, `INVALID_MESSAGE: ${header.problem}`);
        return;
      }
      // Frames queue in Hocuspocus while the ones before them wait for their appends: bounded per socket.
      if (!collab.inflight.admit(socketKey, header.documentName, bytes)) {
        socket.close(CLOSE_CODES.BACKLOG_EXCEEDED.code, CLOSE_CODES.BACKLOG_EXCEEDED.reason);
        return;
      }
      client.handleMessage(bytes);
    });
    socket.on('close', (code: number, reason: Buffer) => {
      collab.sockets.delete(socket);
      collab.slots?.release(socketKey);
      collab.inflight.release(socketKey);
      client.handleClose({ code, reason: reason.toString() });
    });
    socket.on('error', (err) => {
      request.log.warn({ err: { message: err.message } }, 'collab socket error');
    });
  });
  app.decorate('collabRouteStats', stats);
}
