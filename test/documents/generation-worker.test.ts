/**
 * The demo's generator as a worker of the operations API: started on a deck, it writes each slide through
 * `POST …/operations` with its own service token, so a Yjs editor of the deck sees the slides arrive one by one
 * (before the job completes); it writes only into a deck the caller may edit.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_SECRET_FILE } from '../../server/auth/dev-secret.js';
import { documentJsonOf } from '../../shared/presentation.js';
import { openClient, waitFor, waitSynced, type CollabClient } from '../helpers/collab-client.js';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { call, createDeck, eventually } from './support.js';

describe('the demo generator writes slides through the operations API', () => {
  let server: TestServer;
  let editor: CollabClient | undefined;

  beforeAll(async () => {
    // The dev routes exist only while the server signs with its own dev secret (no JWT key configured); the one it
    // keeps in DATA_DIR is the tests' secret here, so the tests' tokens are valid.
    const dataDir = mkdtempSync(join(tmpdir(), 'deckhand-docgen-'));
    writeFileSync(join(dataDir, DEV_SECRET_FILE), `${TEST_SECRET}\n`, { mode: 0o600 });
    server = await startServer({ DATABASE_URL: await createTestDatabase('docgen'), JWT_SECRET: '', DATA_DIR: dataDir });
  });
  afterAll(async () => {
    editor?.destroy();
    await server?.close();
  });

  it('slides arrive live in the deck, the job completes with their ids, strangers cannot aim it at a deck', async () => {
    await createDeck(server, 'gen1', 'olga', { vic: 'viewer' });
    editor = openClient({ url: server.wsUrl, presentationId: 'gen1', token: mintToken('olga') });
    await waitSynced(editor);
    const counts: number[] = [];
    editor.doc.on('update', () => counts.push(documentJsonOf(editor!.doc).slides.length));

    for (const user of ['mallory', 'vic']) {
      expect((await call(server, 'POST', '/dev/generation', user, { topic: 'Nope', presentation_id: 'gen1' })).status).toBe(403);
    }
    const started = await call(server, 'POST', '/dev/generation', 'olga', { topic: 'Launch plan', slides: 3, presentation_id: 'gen1' });
    expect(started.status).toBe(202);
    const jobId = started.body.job_id as string;
    await waitFor(() => documentJsonOf(editor!.doc).slides.length === 3, 15_000, 'three slides in the deck');
    // One at a time: the editor saw one slide, then two, then three.
    expect(counts).toEqual(expect.arrayContaining([1, 2, 3]));
    expect(documentJsonOf(editor.doc).slides.map((s) => s.title)).toEqual([
      'Launch plan: Why it matters',
      'Launch plan: Where we stand',
      'Launch plan: What we propose',
    ]);
    await eventually(async () => {
      const job = (await call(server, 'GET', `/jobs/${jobId}`, 'olga')).body;
      expect(job.status).toBe('completed');
      expect(job.result.slide_ids).toEqual(documentJsonOf(editor!.doc).slides.map((s) => s.id));
    }, 15_000);
  });
});
