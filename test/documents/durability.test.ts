/**
 * Operations are acknowledged only once durable. Another Postgres session holds a lock that blocks every INSERT into
 * the update log (reads go on): while the append of an operation waits on it, a REST batch is not answered and a
 * socket operation gets no `edit_ack` (its `edit_operation` may arrive: peers may see a change before it is stored).
 * Once the lock is gone both are answered, and the change is in Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentJsonOf, documentName } from '../../shared/presentation.js';
import { blockAllAppends, heldAppends, untilAsync as until } from '../helpers/append-hold.js';
import { createTestDatabase, loadFromDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { createDeck, openJsonCollab } from './support.js';

describe('operations are durable before they are acknowledged', () => {
  let databaseUrl: string;
  let server: TestServer;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('docdur');
    server = await startServer({ DATABASE_URL: databaseUrl });
  });
  afterAll(async () => server?.close());

  const blockAppends = () => blockAllAppends(databaseUrl);
  const appendWaiting = async () => (await heldAppends(databaseUrl, true)) > 0;

  it('REST: no answer while the append waits; 200 once the batch is stored', async () => {
    await createDeck(server, 'dur1', 'olga');
    const post = (id: string) =>
      fetch(`${server.url}/api/v1/presentations/dur1/operations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${mintToken('olga')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ operations: [{ type: 'add_slide', slide_id: id, content: { title: id } }] }),
      });
    expect((await post('before')).status).toBe(200);
    const unblock = await blockAppends();
    let answered = false;
    const pending = post('during').then((res) => {
      answered = true;
      return res;
    });
    await until(appendWaiting, 'the append to wait on the lock');
    expect(answered).toBe(false);
    await unblock();
    expect((await pending).status).toBe(200);
    expect(documentJsonOf(await loadFromDatabase(databaseUrl, documentName('dur1'))).slides.map((s) => s.id)).toEqual(['before', 'during']);
  });

  it('socket: the edit_operation may come, the edit_ack only once the operation is stored', async () => {
    await createDeck(server, 'dur2', 'olga');
    const client = await openJsonCollab(server, 'dur2', 'olga');
    const add = (id: string) => client.send({ type: 'edit_operation', operation: { type: 'add_slide', operation_id: id, slide_id: id } });
    add('before');
    await client.waitFor((m) => m.type === 'edit_ack' && m.operation_id === 'before', 5000, 'first ack');
    const unblock = await blockAppends();
    add('during');
    await client.waitFor((m) => m.type === 'edit_operation' && m.operation_id === 'during', 5000, 'the echo, before it is stored');
    await until(appendWaiting, 'the append to wait on the lock');
    expect(client.messages.some((m) => m.type === 'edit_ack' && m.operation_id === 'during')).toBe(false);
    await unblock();
    await client.waitFor((m) => m.type === 'edit_ack' && m.operation_id === 'during', 5000, 'the ack once stored');
    expect(documentJsonOf(await loadFromDatabase(databaseUrl, documentName('dur2'))).slides.map((s) => s.id)).toEqual(['before', 'during']);
    client.close();
  });
});
