import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { insertSlide } from '../../shared/presentation.js';
import { openClient, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase, queryDb } from '../helpers/database.js';
import { frame } from '../helpers/hocuspocus-frames.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';

function rawSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('collaboration: malformed and oversized frames', () => {
  let server: TestServer;
  let databaseUrl: string;
  const clients: CollabClient[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    databaseUrl = await createTestDatabase('bad');
    server = await startServer({ DATABASE_URL: databaseUrl, COLLAB_MAX_FRAME_BYTES: String(256 * 1024) });
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    for (const c of clients) c.destroy();
    await server?.close();
  });

  it('1,000 random binary frames and an oversized frame leave the server healthy for other clients', async () => {
    const healthy = openClient({ url: server.wsUrl, presentationId: 'fuzz', token: mintToken('alice') });
    clients.push(healthy);
    await waitSynced(healthy);

    let closed = 0;
    let sockets = 0;
    for (let batch = 0; batch < 10; batch++) {
      const ws = await rawSocket(server.wsUrl);
      sockets++;
      ws.on('close', () => closed++);
      ws.on('error', () => {});
      for (let i = 0; i < 100 && ws.readyState === WebSocket.OPEN; i++) {
        const kind = (batch * 100 + i) % 4;
        if (kind === 0) ws.send(randomBytes(1 + Math.floor(Math.random() * 512)));
        // Structured garbage: a valid address with random message bodies, before authentication.
        else if (kind === 1) ws.send(frame('presentation:fuzz', Math.floor(Math.random() * 12), (e) => encoding.writeUint8Array(e, randomBytes(64))));
        // A claimed huge length with few bytes behind it.
        else if (kind === 2)
          ws.send(
            frame('presentation:fuzz', 0, (e) => {
              encoding.writeVarUint(e, 2);
              encoding.writeVarUint(e, 0x7fffffff);
            }),
          );
        else ws.send(frame(randomBytes(8).toString('hex'), 2, (e) => encoding.writeVarString(e, 'not a jwt')));
      }
      ws.close();
    }
    await waitFor(() => closed === sockets, 10_000, `fuzz sockets closed (${closed}/${sockets})`);

    // Oversized: one frame over COLLAB_MAX_FRAME_BYTES is refused with 1009.
    const big = await rawSocket(server.wsUrl);
    const code = await new Promise<number>((resolve) => {
      big.on('close', (c) => resolve(c));
      big.on('error', () => {});
      big.send(Buffer.alloc(300 * 1024, 1));
    });
    expect(code).toBe(1009);

    // A text frame is refused (1003).
    const text = await rawSocket(server.wsUrl);
    const textCode = await new Promise<number>((resolve) => {
      text.on('close', (c) => resolve(c));
      text.send('hello');
    });
    expect(textCode).toBe(1003);

    // The healthy client still edits and gets acks; a new client still syncs.
    insertSlide(healthy.doc, { id: 'after-fuzz', title: 'still alive' });
    await waitAcked(healthy);
    const late = openClient({ url: server.wsUrl, presentationId: 'fuzz', token: mintToken('alice') });
    clients.push(late);
    await waitSynced(late);
    await waitFor(() => late.doc.getArray('slides').length === 1, 5000, 'late client sees the edit');
    const health = await fetch(`${server.url}/health/ready`);
    expect(health.status).toBe(200);
    expect(unhandled).toEqual([]);
  });

  it('an authenticated client sending a malformed Yjs update is closed without an ack, and nothing is stored', async () => {
    const token = mintToken('alice');
    const good = openClient({ url: server.wsUrl, presentationId: 'fuzz2', token });
    clients.push(good);
    await waitSynced(good);
    const ws = await rawSocket(server.wsUrl);
    const received: Buffer[] = [];
    ws.on('message', (d: Buffer) => received.push(d));
    ws.send(
      frame('presentation:fuzz2', 2, (e) => {
        encoding.writeVarUint(e, 0);
        encoding.writeVarString(e, token);
      }),
    );
    await waitFor(() => received.length > 0, 5000, 'authenticated');
    await new Promise((r) => setTimeout(r, 200));
    const before = received.length;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    // Sync message (0), type Update (2), with a truncated/garbage update payload.
    const garbage = Uint8Array.from([1, 200, 3, 7, 7, 7, 0x42, 0x41, 0x44]);
    ws.send(
      frame('presentation:fuzz2', 0, (e) => {
        encoding.writeVarUint(e, 2);
        encoding.writeVarUint8Array(e, garbage);
      }),
    );
    await closed;
    // No SyncStatus ack (type 8) came back for it: the client would keep and resend the edit, not lose it.
    const after = received.slice(before).map((d) => {
      const dec = decoding.createDecoder(d);
      decoding.readVarString(dec);
      return decoding.readVarUint(dec);
    });
    expect(after).not.toContain(8);
    const rows = await queryDb<{ update: Buffer }>(databaseUrl, 'SELECT update FROM document_updates WHERE name = $1', ['presentation:fuzz2']);
    expect(rows.every((r) => !Buffer.from(r.update).includes(Buffer.from(garbage)))).toBe(true);
    // The good client is unaffected and the document loads fine on a new connection.
    insertSlide(good.doc, { id: 'ok' });
    await waitAcked(good);
    expect(unhandled).toEqual([]);
  });
});
