/**
 * Event subscribers and publishers for the fan-out scenario, one implementation per target:
 * Deckhand over WS (`/realtime/generation/{job}`) and SSE (`/realtime/sse/generation/{job}`), Socket.IO
 * (socket.io-client, websocket transport), raw ws (`/sub/{channel}`) and raw SSE. Every delivery is scanned for the
 * `[t=…]` timestamp the publisher put in the message.
 */
import { request } from 'node:http';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { scanTimestamps } from './doc-clients.js';
import { agent, expectOk, httpJson } from './http.js';
import { deferred, pool } from './schedule.js';
import type { TargetInfo } from './protocol.js';
import { mintToken } from './tokens.js';

export interface Subscriber {
  /** Resolves once the subscription is live (Deckhand: the job's current state arrived). */
  ready: Promise<void>;
  onEvent: ((sentAt: number, at: number) => void) | undefined;
  close(): void;
}

const SERVICE = 'bench-worker';

export function serviceToken(target: TargetInfo): string {
  return mintToken(SERVICE, 'jobs:write', target.secret);
}

const JOB_PROGRESS = Buffer.from('"job_progress"');

export function subscribe(target: TargetInfo, channel: string, user: string): Subscriber {
  const ready = deferred();
  const sub: Subscriber = { ready: ready.promise, onEvent: undefined, close: () => {} };
  const ws = target.http.replace(/^http/, 'ws');
  const emit = (bytes: Uint8Array, at: number) => scanTimestamps(bytes, (sentAt) => sub.onEvent?.(sentAt, at));

  if (target.kind === 'socketio') {
    const socket: Socket = io(target.http, {
      transports: ['websocket'],
      query: { room: channel },
      forceNew: true,
      reconnection: false,
    });
    socket.on('connect', () => ready.resolve());
    socket.on('connect_error', (err) => ready.reject(err));
    socket.on('job_progress', (msg: { data?: { message?: string } }) => {
      const at = performance.now();
      const text = msg.data?.message;
      if (text?.startsWith('[t=')) sub.onEvent?.(Number.parseFloat(text.slice(3)), at);
    });
    sub.close = () => socket.disconnect();
    return sub;
  }

  const sse = target.kind === 'raw-sse' || (target.kind === 'deckhand' && target.transport === 'sse');
  if (!sse) {
    const url =
      target.kind === 'deckhand'
        ? `${ws}/api/v1/realtime/generation/${channel}?token=${mintToken(user, 'jobs:write', target.secret)}`
        : `${ws}/sub/${channel}`;
    const socket = new WebSocket(url, { perMessageDeflate: false });
    if (target.kind === 'deckhand') {
      // Live once the job's current state (sent after the subscription is in place) arrived.
      socket.on('message', (data: Buffer) => {
        if (data.includes(JOB_PROGRESS)) ready.resolve();
      });
    } else {
      socket.on('open', () => ready.resolve());
    }
    socket.on('message', (data: Buffer) => emit(data, performance.now()));
    socket.on('close', (code) => ready.reject(new Error(`closed ${code}`)));
    socket.on('error', (err) => ready.reject(err));
    sub.close = () => socket.terminate();
    return sub;
  }

  const path =
    target.kind === 'deckhand'
      ? `/api/v1/realtime/sse/generation/${channel}?token=${mintToken(user, 'jobs:write', target.secret)}`
      : `/sub/${channel}`;
  const req = request(`${target.http}${path}`, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
    if (res.statusCode !== 200) {
      ready.reject(new Error(`SSE ${res.statusCode}`));
      res.resume();
      return;
    }
    res.socket.setNoDelay(true);
    let tail: Buffer | null = null;
    res.on('data', (chunk: Buffer) => {
      const at = performance.now();
      // A frame may straddle chunks: scan whole frames (up to the last blank line) and keep the rest.
      const bytes: Buffer = tail ? Buffer.concat([tail, chunk]) : chunk;
      const end = bytes.lastIndexOf('\n\n');
      if (end < 0) {
        tail = bytes;
        return;
      }
      const frames = bytes.subarray(0, end + 2);
      tail = end + 2 < bytes.length ? bytes.subarray(end + 2) : null;
      if (target.kind === 'deckhand' ? frames.includes(JOB_PROGRESS) || frames.includes('event: job_progress') : true) ready.resolve();
      emit(frames, at);
    });
    res.on('close', () => ready.reject(new Error('SSE closed')));
  });
  req.on('error', (err) => ready.reject(err));
  req.end();
  sub.close = () => req.destroy();
  return sub;
}

/** A job_progress message shaped like Deckhand's, for the peers (same size on the wire). */
export function peerMessage(channel: string, text: string, progress: number): string {
  return JSON.stringify({
    type: 'job_progress',
    job_id: channel,
    data: { status: 'processing', progress, current_step: 'rendering', message: text, estimated_completion: null },
    timestamp: new Date().toISOString(),
  });
}

export interface Publisher {
  /** Fires one publish on `channel` (does not wait for it). */
  publish(channel: string, text: string, i: number): void;
  readonly errors: number;
  readonly ok: number;
  readonly inflight: number;
  /** The HTTP request and body autocannon should send to publish on `channel`. */
  ingestRequest(channel: string): { path: string; headers: Record<string, string>; body: string };
}

export function publisher(target: TargetInfo): Publisher {
  const token = serviceToken(target);
  let errors = 0;
  let ok = 0;
  let inflight = 0;
  const requestFor = (ch: string, text: string, progress: number): { path: string; headers: Record<string, string>; body: string } =>
    target.kind === 'deckhand'
      ? {
          path: `/api/v1/jobs/${ch}/progress`,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ status: 'processing', progress, current_step: 'rendering', message: text }),
        }
      : { path: `/publish/${ch}`, headers: { 'content-type': 'application/json' }, body: peerMessage(ch, text, progress) };
  return {
    publish(channel: string, text: string, i: number) {
      const r = requestFor(channel, text, (i % 1000) / 1000);
      inflight++;
      const req = request(
        `${target.http}${r.path}`,
        { method: 'POST', agent, headers: { ...r.headers, 'content-length': Buffer.byteLength(r.body) } },
        (res) => {
          res.resume();
          res.on('end', () => {
            inflight--;
            if (res.statusCode === 200) ok++;
            else errors++;
          });
        },
      );
      req.on('error', () => {
        inflight--;
        errors++;
      });
      req.end(r.body);
    },
    get errors() {
      return errors;
    },
    get ok() {
      return ok;
    },
    get inflight() {
      return inflight;
    },
    ingestRequest: (ch: string) => requestFor(ch, '[t=0]', 0.5),
  };
}

/** Deckhand: the jobs exist (created by the worker service) and are `processing`. */
export async function createJobs(target: TargetInfo, ids: string[]): Promise<void> {
  if (target.kind !== 'deckhand') return;
  const auth = { authorization: `Bearer ${serviceToken(target)}` };
  await pool(ids, 8, async (id) => {
    await expectOk(
      httpJson('POST', `${target.http}/api/v1/jobs`, { job_id: id, user_id: 'bench-owner', kind: 'render', title: id }, auth),
      `create job ${id}`,
    );
    await expectOk(httpJson('POST', `${target.http}/api/v1/jobs/${id}/progress`, { status: 'processing', progress: 0 }, auth), `start job ${id}`);
  });
}
