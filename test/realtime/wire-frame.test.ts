/**
 * Frames encoded once (server/streaming/wire-frame.ts) in a process that loads ws only through its ES module entry,
 * as any module graph does in which no CommonJS package (@fastify/websocket today) required ws first: ws's ESM entry
 * exports Sender by name, and its default export (the WebSocket class) carries `Sender` only once ws's CommonJS entry
 * has run. A real ws client reads the frames, followed by one ws writes itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

/** A bare server: the upgrade's stream gets whole frames from textFrame, then ws sends one of its own. */
const SERVER = `
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { textFrame } from './server/streaming/wire-frame.ts';
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const server = createServer();
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    try {
      for (const size of [10, 300, 70000]) socket.write(textFrame(Buffer.from(JSON.stringify({ size, text: 'x'.repeat(size) }))).wire);
      ws.send(JSON.stringify({ done: true }));
    } catch (err) {
      ws.close(1011, String(err.message).slice(0, 100));
    }
  });
});
server.listen(0, '127.0.0.1', () => console.log('port', server.address().port));
`;

interface Received {
  size?: number;
  text?: string;
  done?: boolean;
}

describe('shared WebSocket frames', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill();
    child = undefined;
  });

  it('are encoded where ws is loaded only as an ES module, and read whole by a ws client (7-, 16-, 64-bit lengths)', async () => {
    const server = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SERVER], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = server;
    let out = '';
    server.stdout.setEncoding('utf8');
    const port = await new Promise<number>((resolve, reject) => {
      server.stdout.on('data', (chunk: string) => {
        out += chunk;
        const match = /port (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      server.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
    });

    const client = new WebSocket(`ws://127.0.0.1:${port}/`);
    const messages: Received[] = [];
    const ended = new Promise<string>((resolve) => {
      client.on('message', (data) => {
        const message = JSON.parse(String(data)) as Received;
        messages.push(message);
        if (message.done) resolve('done');
      });
      client.on('close', (code, reason) => resolve(`closed ${code} ${String(reason)}`));
      client.on('error', (err) => resolve(`error ${err.message}`));
    });
    expect(await ended).toBe('done');
    client.close();
    expect(messages.map((m) => m.size ?? 'done')).toEqual([10, 300, 70000, 'done']);
    expect(messages.slice(0, 3).every((m) => m.text === 'x'.repeat(m.size ?? 0))).toBe(true);
  });
});
