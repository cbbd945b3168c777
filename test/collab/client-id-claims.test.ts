/**
 * The cap on new client ids: every claimed Yjs client id is a document_clients row for good, so one user may claim
 * at most COLLAB_CLIENT_ID_CLAIMS_MAX (3 here) new ids in a document per window, counted in Postgres over every
 * instance. Past it, awareness states under new ids are dropped and updates under them refused whole; the ids
 * claimed before keep working, and reconnecting with the same document (same id) claims nothing.
 */
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import { findSlide, slideText } from '../../shared/presentation.js';
import { openClient, reconnect, waitAcked, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { queryDb } from '../helpers/database.js';
import { createDeck } from '../helpers/deck.js';
import { awarenessFrame, awarenessUpdate } from '../helpers/hocuspocus-frames.js';
import { editOf, errorsOf, openRawWriter, reloaded, type RawWriter } from '../helpers/raw-writer.js';
import { SERVER_OWNER } from '../../server/collab/client-owners.js';
import { mintToken, startServer } from '../helpers/server.js';
import { useGuardServer } from '../helpers/guard-server.js';

const CAP = 3;
const LIMITS = { COLLAB_CLIENT_ID_CLAIMS_MAX: String(CAP), COLLAB_CLIENT_ID_CLAIMS_WINDOW_MS: '3600000' };

describe('client ids: a user claims a bounded number of new ones per document and window', () => {
  const fx = useGuardServer('claimcap', LIMITS);

  const claimedBy = async (presentationId: string, user: string) =>
    (
      await queryDb<{ client_id: string }>(
        fx.databaseUrl,
        'SELECT client_id FROM document_clients WHERE name = $1 AND user_id = $2 ORDER BY client_id',
        [`presentation:${presentationId}`, user],
      )
    ).map((r) => Number(r.client_id));

  /** This instance's count of refused claims (GET /metrics). */
  const refusedClaims = async () => {
    const res = await fetch(`${fx.server.url}/metrics`, { headers: { authorization: `Bearer ${mintToken('ops', { scope: 'admin' })}` } });
    const match = /^deckhand_collab_client_id_claims_refused_total (\d+)$/m.exec(await res.text());
    return Number(match?.[1]);
  };

  let probes = 0;
  /** Sends awareness states under `ids`, then waits until the connection's frames were handled (a lock answer). */
  async function announce(conn: RawWriter, presentationId: string, ids: number[], clock = 1): Promise<void> {
    for (const id of ids)
      conn.raw.send(awarenessFrame(`presentation:${presentationId}`, awarenessUpdate(id, { presence: `id ${id}`, clock }, clock)));
    // Frames of a connection are handled in order: the answer to this (NOT_FOUND, or PERMISSION_DENIED for a viewer)
    // comes after the states above were.
    const probe = `probe-${++probes}`;
    conn.sendStateless(JSON.stringify({ type: 'lock_slide', slide_id: probe }));
    await conn.until(() => conn.stateless.some((m) => (m.details as { slide_id?: string } | undefined)?.slide_id === probe), 'the lock answer');
  }

  it('a viewer cycling through fresh awareness ids on two instances claims no more than the cap, and keeps presence under its first ones', async () => {
    const id = 'claims-viewer';
    const { owner } = await createDeck(fx.server, id, ['s1'], { vic: 'viewer' }, fx.clients);
    const other = await startServer({ ...LIMITS, DATABASE_URL: fx.databaseUrl });
    const conns: RawWriter[] = [];
    try {
      const open = async (instance: 'a' | 'b') => {
        const conn = await openRawWriter(instance === 'a' ? fx.server.wsUrl : other.wsUrl, id, mintToken('vic'));
        conns.push(conn);
        return conn;
      };
      const first = await open('a');
      await announce(first, id, [101, 102]);
      await announce(await open('b'), id, [103, 104]);
      // Instance A claimed two of them itself: only Postgres knows the user is at its cap.
      for (let i = 0; i < 3; i++) await announce(await open(i % 2 === 0 ? 'a' : 'b'), id, [105 + 2 * i, 106 + 2 * i]);

      expect(await claimedBy(id, 'vic')).toEqual([101, 102, 103]);
      const states = () => owner.provider.awareness!.getStates() as Map<number, { clock?: number; user?: { id: string } }>;
      await waitFor(() => states().has(101) && states().has(102), 5000, "the viewer's first states on the owner");
      expect(states().get(101)?.user?.id).toBe('vic');

      // Presence under a claimed id still works. Sent after every state above was handled: what instance A relayed
      // of them reached the owner before this.
      await announce(first, id, [101], 2);
      await waitFor(() => states().get(101)?.clock === 2, 5000, 'the later state of 101');
      for (const dropped of [105, 106, 109, 110]) expect(states().has(dropped), `state of ${dropped}`).toBe(false);
      // Nothing else under the viewer's name either (Hocuspocus' scratch awareness adds a state of its own to every
      // frame: stamped and relayed, it would show here, and claiming it would spend the cap).
      const fromVic = [...states()].filter(([, state]) => state.user?.id === 'vic').map(([clientId]) => clientId);
      expect(fromVic.sort()).toEqual([101, 102]);
    } finally {
      for (const conn of conns) conn.raw.ws.close();
      await other.close();
    }
  });

  it("a frame padding ids it may not claim in front cannot slip another id past the check: neither another user's (not live here) nor a new one past the cap is relayed", async () => {
    const id = 'claims-padded';
    const { owner } = await createDeck(fx.server, id, ['s1'], { vic: 'viewer', ida: 'editor' }, fx.clients);
    const states = () => owner.provider.awareness!.getStates() as Map<number, { clock?: number; user?: { id: string } }>;
    // Ida's provider id, claimed in the document; its connection is gone (or lives on another instance).
    const ida = await openRawWriter(fx.server.wsUrl, id, mintToken('ida'));
    await announce(ida, id, [302]);
    await waitFor(() => states().get(302)?.user?.id === 'ida', 5000, "ida's state on the owner");
    ida.raw.ws.close();
    await waitFor(() => !states().has(302), 5000, "ida's state removed when she left");

    // The viewer spends its cap on 501-503 (three of the four ids a connection may introduce), then sends ONE frame:
    // a new id past its cap (504) takes the last place the connection checks; Ida's id and another new one follow.
    const vic = await openRawWriter(fx.server.wsUrl, id, mintToken('vic'));
    await announce(vic, id, [501, 502, 503]);
    const padded = encoding.createEncoder();
    const entries = [504, 302, 505];
    encoding.writeVarUint(padded, entries.length);
    for (const [i, clientId] of entries.entries()) {
      encoding.writeVarUint(padded, clientId);
      encoding.writeVarUint(padded, 5 + i);
      encoding.writeVarString(padded, JSON.stringify({ presence: `padded ${clientId}` }));
    }
    vic.raw.send(awarenessFrame(`presentation:${id}`, encoding.toUint8Array(padded)));
    await announce(vic, id, [501], 9);
    await waitFor(() => states().get(501)?.clock === 9, 5000, 'the later state of 501');
    expect(states().has(302), "a state under ida's id").toBe(false);
    expect(states().has(504), 'a state under a new id past the cap').toBe(false);
    expect(states().has(505), 'a state under a new id past the cap').toBe(false);
    expect(await claimedBy(id, 'vic')).toEqual([501, 502, 503]);
    expect(await claimedBy(id, 'ida')).toEqual([302]);
  });

  it('an editor past the cap writing under a fresh id is refused whole, and the store never holds that edit', async () => {
    const id = 'claims-editor';
    const { owner } = await createDeck(fx.server, id, ['s1'], { eddie: 'editor' }, fx.clients);
    const eddie = await openRawWriter(fx.server.wsUrl, id, mintToken('eddie'));
    await announce(eddie, id, [201, 202, 203]);
    expect(await claimedBy(id, 'eddie')).toEqual([201, 202, 203]);
    const refusedBefore = await refusedClaims();

    const typed = (clientId: number, text: string) =>
      editOf(owner.doc, (doc) => {
        doc.clientID = clientId;
        slideText(findSlide(doc, 's1')!, 'title').insert(0, text);
      });
    eddie.send(typed(204, 'OVERCAP '));
    await eddie.answered(1);
    const refusals = errorsOf(eddie.stateless, 'PERMISSION_DENIED').filter((m) => (m.details as { refused?: string }).refused === 'whole');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.message).toContain('client id 204');
    expect(await eddie.raw.closed).toBe(4409);
    // The write path asks again after catching the document up: the instance refuses it without a query then.
    expect(await refusedClaims()).toBeGreaterThan(refusedBefore);

    // Its ids claimed before the cap still take its edits.
    const again = await openRawWriter(fx.server.wsUrl, id, mintToken('eddie'));
    again.send(typed(201, 'CLAIMED '));
    await again.answered(1);
    expect(again.acks).toEqual([true]);
    again.raw.ws.close();

    expect(await claimedBy(id, 'eddie')).toEqual([201, 202, 203]);
    const stored = await fx.storedBytes(id);
    expect(stored).not.toContain('OVERCAP');
    const title = slideText(findSlide(await reloaded(fx.databaseUrl, id), 's1')!, 'title').toString();
    expect(title).toBe('CLAIMED title s1');
  });

  it("the server's own client id in a document is claimed when it loads: a collaborator writing under it is refused", async () => {
    const id = 'claims-server-id';
    const { owner } = await createDeck(fx.server, id, ['s1'], { eddie: 'editor' }, fx.clients);
    const name = `presentation:${id}`;
    const serverId = fx.server.app.deckhand.collab.hocuspocus.documents.get(name)!.clientID;
    const owners = await queryDb<{ user_id: string }>(fx.databaseUrl, 'SELECT user_id FROM document_clients WHERE name = $1 AND client_id = $2', [
      name,
      String(serverId),
    ]);
    expect(owners.map((r) => r.user_id)).toEqual([SERVER_OWNER]);

    // At the server's next clock: what JSON operations on this instance would write next.
    const eddie = await openRawWriter(fx.server.wsUrl, id, mintToken('eddie'));
    eddie.send(
      editOf(owner.doc, (doc) => {
        doc.clientID = serverId;
        slideText(findSlide(doc, 's1')!, 'title').insert(0, 'HIJACK ');
      }),
    );
    await eddie.answered(1);
    const refusals = errorsOf(eddie.stateless, 'PERMISSION_DENIED').filter((m) => (m.details as { refused?: string }).refused === 'whole');
    expect(refusals).toHaveLength(1);
    expect(await eddie.raw.closed).toBe(4409);
    expect(await fx.storedBytes(id)).not.toContain('HIJACK');
    expect(slideText(findSlide(await reloaded(fx.databaseUrl, id), 's1')!, 'title').toString()).toBe('title s1');
  });

  it('an honest provider reconnecting more often than the cap is unaffected: only a new document (a reload) claims an id', async () => {
    const id = 'claims-honest';
    const { owner } = await createDeck(fx.server, id, ['s1'], { hana: 'editor' }, fx.clients);
    const tab = () => {
      const client = openClient({ url: fx.server.wsUrl, presentationId: id, token: mintToken('hana', { name: 'HANA' }) });
      fx.clients.push(client);
      return client;
    };
    const type = async (client: CollabClient, text: string) => {
      const title = slideText(findSlide(client.doc, 's1')!, 'title');
      title.insert(title.length, text);
      await waitAcked(client);
    };
    const hana = tab();
    let connects = 0;
    hana.socket.on('connect', () => connects++);
    await waitSynced(hana);
    for (let i = 0; i < CAP + 2; i++) {
      await type(hana, ` r${i}`);
      hana.socket.disconnect();
      reconnect(hana);
      await waitFor(() => connects === i + 1, 5000, `reconnect ${i + 1}`);
      await waitSynced(hana);
    }
    await type(hana, ' last');
    expect(await claimedBy(id, 'hana')).toEqual([hana.doc.clientID]);

    // Reloads: new documents, new ids, up to the cap.
    for (let i = 1; i < CAP; i++) {
      const reload = tab();
      await waitSynced(reload);
      reload.provider.setAwarenessField('presence', { slide_id: 's1', status: 'active' });
      await type(reload, ` tab${i}`);
      await waitFor(() => owner.provider.awareness!.getStates().has(reload.doc.clientID), 5000, 'the new tab on the owner');
    }
    expect(await claimedBy(id, 'hana')).toHaveLength(CAP);
    const beyond = tab();
    await waitSynced(beyond);
    slideText(findSlide(beyond.doc, 's1')!, 'title').insert(0, 'BEYOND ');
    await waitFor(() => errorsOf(beyond.stateless, 'PERMISSION_DENIED').length > 0, 5000, 'the refusal of the tab past the cap');
    beyond.destroy();
    expect(await claimedBy(id, 'hana')).toHaveLength(CAP);
    expect(slideText(findSlide(await reloaded(fx.databaseUrl, id), 's1')!, 'title').toString()).toBe('title s1 r0 r1 r2 r3 r4 last tab1 tab2');
  });
});
