/**
 * Bad input on the JSON collaboration socket, seeded: mutated messages (fields dropped, retyped, oversized, deep,
 * prototype keys), non-JSON and binary frames. The process lives, every frame is answered in order (applied, or an
 * `error` with a code), the sender's socket stays open, another client is not disturbed, and afterwards the sender's
 * JSON copy, the other client's copy and the document in Postgres are the same. An oversized frame closes with 1009.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyOperation, type DocumentJson } from '../../shared/document-json.js';
import { documentJsonOf, documentName } from '../../shared/presentation.js';
import { waitFor } from '../helpers/collab-client.js';
import { createTestDatabase, loadFromDatabase } from '../helpers/database.js';
import type { JsonWsClient } from '../helpers/json-ws.js';
import { prng, type Prng } from '../helpers/prng.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { call, createDeck, openJsonCollab } from './support.js';

function copyOf(client: JsonWsClient): DocumentJson {
  const connected = client.messages.find((m) => m.type === 'connected');
  const copy = JSON.parse(JSON.stringify(connected.document)) as DocumentJson;
  for (const m of client.messages) if (m.type === 'edit_operation') applyOperation(copy, m.operation);
  return copy;
}

const JUNK: unknown[] = [
  null,
  true,
  -1,
  1.5,
  1e300,
  '',
  'x'.repeat(100_001),
  [],
  {},
  { __proto__: { polluted: true } },
  [[[[[[[[[[1]]]]]]]]]],
  '../etc',
  '\ud800',
];

function mutate(r: Prng, value: unknown, depth = 0): unknown {
  if (depth > 3 || r.next() < 0.25) return r.pick(JUNK);
  if (Array.isArray(value)) return value.map((v) => (r.next() < 0.3 ? mutate(r, v, depth + 1) : v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (r.next() < 0.15) continue;
      out[r.next() < 0.05 ? '__proto__' : k] = r.next() < 0.35 ? mutate(r, v, depth + 1) : v;
    }
    if (r.next() < 0.2) out[`extra${r.int(3)}`] = r.pick(JUNK);
    return out;
  }
  return r.pick(JUNK);
}

describe('bad input on the JSON collaboration socket', () => {
  let server: TestServer;
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('docbad');
    server = await startServer({ DATABASE_URL: databaseUrl, WS_RATE_BURST: '100000', WS_RATE_PER_SEC: '100000' });
  });
  afterAll(async () => server?.close());

  it('answers every mutated frame, stays up, and keeps every copy equal to the stored document', async () => {
    await createDeck(server, 'bad1', 'olga', { ed: 'editor' });
    await call(server, 'POST', '/presentations/bad1/operations', 'olga', {
      operations: [{ type: 'add_slide', slide_id: 's1', content: { title: 'Hello', body: 'World' } }],
    });
    const attacker = await openJsonCollab(server, 'bad1', 'olga');
    const bystander = await openJsonCollab(server, 'bad1', 'ed');
    const r = prng(1616);
    const valid = [
      { type: 'edit_operation', operation: { type: 'insert', slide_id: 's1', field: 'title', index: 0, content: { text: 'a' } } },
      { type: 'edit_operation', operation: { type: 'add_slide', slide_id: 'n1', index: 0, content: { title: 't' } } },
      { type: 'edit_operation', operation: { type: 'move_slide', slide_id: 's1', index: 0 } },
      { type: 'edit_operation', operation: { type: 'delete', slide_id: 's1', field: 'body', index: 0, length: 1 } },
      { type: 'edit_operation', operation: { type: 'replace', slide_id: 's1', field: 'notes', content: { text: 'n' } } },
      { type: 'edit_operation', operation: { type: 'set_meta', key: 'title', value: { nested: [1, 2] } } },
      { type: 'cursor_update', slide_id: 's1', field: 'title', index: 2 },
      { type: 'presence_update', slide_id: 's1', status: 'idle' },
      { type: 'lock_slide', slide_id: 's1' },
      { type: 'unlock_slide', slide_id: 's1' },
    ];
    const frames = 300;
    for (let i = 0; i < frames; i++) {
      const choice = r.next();
      if (choice < 0.05) attacker.ws.send(Buffer.from([0, 1, 2, r.int(256)]), { binary: true });
      else if (choice < 0.1) attacker.ws.send(`{"type":"edit_operation","operation":${'['.repeat(r.int(50))}`);
      else {
        const frame = JSON.stringify({ ...(mutate(r, r.pick(valid)) as object), type: r.next() < 0.9 ? r.pick(valid).type : r.pick(JUNK) });
        // Under the frame limit (tested on its own below).
        attacker.ws.send(frame.length < 900_000 ? frame : '{}');
      }
    }
    attacker.send({
      type: 'edit_operation',
      operation: { type: 'insert', operation_id: 'after', slide_id: 's1', field: 'body', index: 0, content: { text: 'still here ' } },
    });
    await attacker.waitFor((m) => m.type === 'edit_ack' && m.operation_id === 'after', 15_000, 'an honest operation after the fuzz');
    expect(attacker.closeInfo).toBeUndefined();
    for (const m of attacker.messages.filter((x) => x.type === 'error')) {
      expect(['INVALID_MESSAGE', 'LOCKED', 'NOT_FOUND', 'PERMISSION_DENIED'], JSON.stringify(m).slice(0, 300)).toContain(m.error_code);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await waitFor(() => JSON.stringify(copyOf(bystander)) === JSON.stringify(copyOf(attacker)), 10_000, 'both copies equal');
    const stored = documentJsonOf(await loadFromDatabase(databaseUrl, documentName('bad1')));
    expect(copyOf(attacker)).toEqual(stored);

    // A frame over the 1 MiB limit: PAYLOAD_TOO_LARGE and 1009; the bystander stays.
    attacker.ws.send(
      JSON.stringify({
        type: 'edit_operation',
        operation: { type: 'insert', slide_id: 's1', field: 'body', index: 0, content: { text: 'x'.repeat(1_100_000) } },
      }),
    );
    expect((await attacker.closed).code).toBe(1009);
    expect(bystander.closeInfo).toBeUndefined();
    bystander.close();
  });
});
