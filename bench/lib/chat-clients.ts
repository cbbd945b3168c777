/**
 * Chat clients for the chat fan-out scenario (Deckhand only: the peers have no chat): members following
 * `chat.{presentation}` on the notifications WebSocket (`subscribe_channel`) or SSE stream (`?channels=`), and posters
 * sending messages over REST. Every delivery is scanned for the `[t=…]` timestamp the poster put in the text.
 */
import { request } from 'node:http';
import WebSocket from 'ws';
import { scanTimestamps } from './doc-clients.js';
import { agent, expectOk, httpJson } from './http.js';
import type { TargetInfo } from './protocol.js';
import { deferred, pool } from './schedule.js';
import { mintToken } from './tokens.js';

export interface ChatMember {
  /** Resolves once the channel is followed (WS: `subscribed`; SSE: the stream answered 200). */
  ready: Promise<void>;
  /** Chat messages received so far (warm-up included). */
  received: number;
  onMessage: ((sentAt: number, at: number) => void) | undefined;
  close(): void;
}

const CHAT_MESSAGE = Buffer.from('"chat_message"');
const SUBSCRIBED = Buffer.from('"subscribed"');

export function joinChat(target: TargetInfo, presentationId: string, user: string): ChatMember {
  const ready = deferred();
  const token = mintToken(user, undefined, target.secret);
  const channel = `chat.${presentationId}`;
  const member: ChatMember = { ready: ready.promise, received: 0, onMessage: undefined, close: () => {} };
  const deliver = (bytes: Buffer, at: number) => {
    if (!bytes.includes(CHAT_MESSAGE)) return;
    member.received++;
    scanTimestamps(bytes, (sentAt) => member.onMessage?.(sentAt, at));
  };

  if (target.transport !== 'sse') {
    const socket = new WebSocket(`${target.http.replace(/^http/, 'ws')}/api/v1/realtime/notifications?token=${token}`, { perMessageDeflate: false });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe_channel', channel })));
    socket.on('message', (data: Buffer) => {
      if (data.includes(SUBSCRIBED)) ready.resolve();
      deliver(data, performance.now());
    });
    socket.on('close', (code) => ready.reject(new Error(`closed ${code}`)));
    socket.on('error', (err) => ready.reject(err));
    member.close = () => socket.terminate();
    return member;
  }

  const req = request(
    `${target.http}/api/v1/realtime/sse/notifications?channels=${channel}&token=${token}`,
    { agent: false, headers: { accept: 'text/event-stream' } },
    (res) => {
      if (res.statusCode !== 200) {
        ready.reject(new Error(`SSE ${res.statusCode}`));
        res.resume();
        return;
      }
      res.socket.setNoDelay(true);
      ready.resolve();
      let tail: Buffer | null = null;
      res.on('data', (chunk: Buffer) => {
        const at = performance.now();
        const bytes: Buffer = tail ? Buffer.concat([tail, chunk]) : chunk;
        const end = bytes.lastIndexOf('\n\n');
        if (end < 0) {
          tail = bytes;
          return;
        }
        tail = end + 2 < bytes.length ? bytes.subarray(end + 2) : null;
        deliver(bytes.subarray(0, end + 2), at);
      });
      res.on('close', () => ready.reject(new Error('SSE closed')));
    },
  );
  req.on('error', (err) => ready.reject(err));
  req.end();
  member.close = () => req.destroy();
  return member;
}

export interface ChatPoster {
  /** Fires one POST (does not wait for it). */
  post(text: string, i: number): void;
  readonly errors: number;
  readonly ok: number;
  readonly inflight: number;
}

/** Posts round-robin as `users` (each a commenter or more of the presentation). */
export function chatPoster(target: TargetInfo, presentationId: string, users: string[]): ChatPoster {
  const tokens = users.map((u) => `Bearer ${mintToken(u, undefined, target.secret)}`);
  const path = `/api/v1/presentations/${presentationId}/chat`;
  let errors = 0;
  let ok = 0;
  let inflight = 0;
  return {
    post(text, i) {
      const body = JSON.stringify({ text });
      inflight++;
      const req = request(
        `${target.http}${path}`,
        {
          method: 'POST',
          agent,
          headers: { authorization: tokens[i % tokens.length]!, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            inflight--;
            if (res.statusCode === 201) ok++;
            else errors++;
          });
        },
      );
      req.on('error', () => {
        inflight--;
        errors++;
      });
      req.end(body);
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
  };
}

/** Creates the presentation (owner `owner`) with `readers` as viewers and `posters` as commenters. */
export async function createChatDeck(target: TargetInfo, presentationId: string, owner: string, readers: string[], posters: string[]): Promise<void> {
  const auth = { authorization: `Bearer ${mintToken(owner, undefined, target.secret)}` };
  const base = `${target.http}/api/v1/presentations/${presentationId}`;
  await expectOk(httpJson('PUT', base, {}, auth), `create ${presentationId}`);
  const members = [...readers.map((u) => [u, 'viewer'] as const), ...posters.map((u) => [u, 'commenter'] as const)];
  await pool(members, 8, async ([user, role]) => {
    await expectOk(httpJson('PUT', `${base}/members/${user}`, { role }, auth), `member ${user}`);
  });
}
