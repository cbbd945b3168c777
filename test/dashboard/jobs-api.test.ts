/**
 * Jobs for dashboards, through real HTTP and SSE: GET /jobs (the caller's, newest first, filtered, paged without gap
 * or repeat) and POST /jobs/{id}/cancel (followers see `cancelled`, the worker's next report gets 409 with the state).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { openSse, type SseClient } from '../helpers/sse.js';
import { call, createJob, generationSse, postProgress, workerToken } from '../realtime/support.js';

describe('jobs API for dashboards', () => {
  let server: TestServer;
  const streams: SseClient[] = [];

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('jobsapi'), AUTO_NOTIFICATIONS: 'none' });
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await server?.close();
  });

  const list = (token: string, query = '') => call(server.url, 'GET', `/api/v1/jobs${query}`, { token });

  it('GET /jobs: the caller’s jobs newest first, filtered by status and kind; services may name a user', async () => {
    const first = await createJob(server.url, { user_id: 'ada', kind: 'export', title: 'one' });
    const second = await createJob(server.url, { user_id: 'ada', kind: 'generate', title: 'two' });
    const third = await createJob(server.url, { user_id: 'ada', kind: 'export', title: 'three' });
    await createJob(server.url, { user_id: 'bo', kind: 'export', title: 'not ada’s' });
    await postProgress(server.url, second.job_id, { status: 'processing', progress: 0.5 });

    const all = await list(mintToken('ada'));
    expect(all.status).toBe(200);
    expect(all.body.jobs.map((j: any) => j.title)).toEqual(['three', 'two', 'one']);
    expect(all.body.next_cursor).toBeNull();
    expect(all.body.jobs[1]).toMatchObject({ job_id: second.job_id, user_id: 'ada', kind: 'generate', status: 'processing', progress: 0.5 });

    expect((await list(mintToken('ada'), '?kind=export')).body.jobs.map((j: any) => j.job_id)).toEqual([third.job_id, first.job_id]);
    expect((await list(mintToken('ada'), '?status=processing')).body.jobs.map((j: any) => j.job_id)).toEqual([second.job_id]);
    expect((await list(mintToken('ada'), '?status=completed')).body.jobs).toEqual([]);
    expect((await list(mintToken('nobody'))).body).toEqual({ jobs: [], next_cursor: null });

    const asService = await list(workerToken(), '?user_id=ada&kind=export');
    expect(asService.body.jobs.map((j: any) => j.title)).toEqual(['three', 'one']);
    const ownId = await list(mintToken('ada'), '?user_id=ada');
    expect(ownId.body.jobs).toHaveLength(3);
  });

  it('GET /jobs: pages follow each other with no gap and no repeat, even for jobs created in the same instant', async () => {
    const ids = (await Promise.all(Array.from({ length: 7 }, (_, i) => createJob(server.url, { user_id: 'cy', title: `job ${i}` })))).map(
      (j) => j.job_id,
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await list(mintToken('cy'), `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.jobs.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.jobs.map((j: any) => j.job_id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(4);
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(new Set(seen).size).toBe(7);
    const times = (await list(mintToken('cy'), '?limit=100')).body.jobs.map((j: any) => Date.parse(j.created_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('GET /jobs: a stranger’s user_id is refused, bad input is 400 with a code, no token is 401', async () => {
    const stranger = await list(mintToken('ada'), '?user_id=bo');
    expect(stranger.status).toBe(403);
    expect(stranger.body.error_code).toBe('PERMISSION_DENIED');
    for (const query of [
      '?limit=0',
      '?limit=101',
      '?limit=two',
      '?status=exploded',
      '?cursor=not-a-cursor',
      `?cursor=${Buffer.from('["x","y"]').toString('base64url')}`,
      '?kind=',
    ]) {
      const res = await list(mintToken('ada'), query);
      expect(res.status, query).toBe(400);
      expect(res.body).toMatchObject({ type: 'error', error_code: 'INVALID_MESSAGE' });
    }
    const anonymous = await call(server.url, 'GET', '/api/v1/jobs');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error_code).toBe('AUTHENTICATION_FAILED');
  });

  it('POST /jobs/{id}/cancel: the job’s user cancels; followers see it; the worker’s next report gets 409 with the state', async () => {
    const { job_id: id } = await createJob(server.url, { user_id: 'dee', kind: 'generate' });
    await postProgress(server.url, id, { status: 'processing', progress: 0.3, current_step: 'drafting' });
    const follower = await openSse(generationSse(server.url, id, mintToken('dee')));
    streams.push(follower);
    await follower.waitFor((e) => e.json?.type === 'job_progress');

    const cancelled = await call(server.url, 'POST', `/api/v1/jobs/${id}/cancel`, { token: mintToken('dee'), body: { reason: 'wrong topic' } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ job_id: id, status: 'cancelled', progress: 0.3, message: 'wrong topic' });
    expect(cancelled.body.completed_at).toBeTruthy();
    const seen = await follower.waitFor((e) => e.json?.data?.status === 'cancelled', 5000, 'cancelled over SSE');
    expect(seen.json).toMatchObject({ type: 'job_progress', job_id: id, data: { status: 'cancelled', kind: 'generate', message: 'wrong topic' } });

    const worker = await postProgress(server.url, id, { status: 'processing', progress: 0.4 });
    expect(worker.status).toBe(409);
    expect(worker.body).toMatchObject({ error_code: 'CONFLICT', details: { status: 'cancelled' } });
    const again = await call(server.url, 'POST', `/api/v1/jobs/${id}/cancel`, { token: mintToken('dee') });
    expect(again.status).toBe(409);
    expect(again.body.details).toEqual({ status: 'cancelled' });
    expect((await call(server.url, 'GET', `/api/v1/jobs/${id}`, { token: mintToken('dee') })).body).toMatchObject({
      status: 'cancelled',
      progress: 0.3,
    });
  });

  it('POST /jobs/{id}/cancel: a service may cancel, without a body; a stranger 403, no job 404, a completed job 409, bad input 400', async () => {
    const { job_id: id } = await createJob(server.url, { user_id: 'eve' });
    const stranger = await call(server.url, 'POST', `/api/v1/jobs/${id}/cancel`, { token: mintToken('mallory') });
    expect(stranger.status).toBe(403);
    expect(stranger.body.error_code).toBe('PERMISSION_DENIED');
    expect((await call(server.url, 'GET', `/api/v1/jobs/${id}`, { token: workerToken() })).body.status).toBe('queued');

    for (const [path, body] of [
      [`/api/v1/jobs/${id}/cancel`, { reason: 'x'.repeat(501) }],
      [`/api/v1/jobs/${id}/cancel`, { reason: 'x', extra: true }],
      [`/api/v1/jobs/${id}/cancel`, { reason: '' }],
      ['/api/v1/jobs/bad%20id/cancel', {}],
    ] as const) {
      const res = await call(server.url, 'POST', path, { token: mintToken('eve'), body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_MESSAGE');
    }
    const missing = await call(server.url, 'POST', '/api/v1/jobs/no-such-job/cancel', { token: mintToken('eve') });
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('NOT_FOUND');
    expect((await call(server.url, 'POST', `/api/v1/jobs/${id}/cancel`)).status).toBe(401);

    const byService = await call(server.url, 'POST', `/api/v1/jobs/${id}/cancel`, { token: workerToken() });
    expect(byService.status).toBe(200);
    expect(byService.body).toMatchObject({ status: 'cancelled', message: 'cancelled by worker' });

    const { job_id: done } = await createJob(server.url, { user_id: 'eve' });
    await postProgress(server.url, done, { status: 'completed', result: { ok: true } });
    const late = await call(server.url, 'POST', `/api/v1/jobs/${done}/cancel`, { token: mintToken('eve') });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error_code: 'CONFLICT', details: { status: 'completed' } });
  });
});
