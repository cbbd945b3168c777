/**
 * Job progress is not a durable commit per step (docs/jobs.md, README Guarantees): the bus keeps every step (its
 * state and its history) and Postgres gets each job's latest state coalesced; terminal states are committed before
 * the answer. What that promises, through real servers, Postgres and Redis:
 * - Postgres down: progress is still accepted and delivered; a terminal state gets 503 SERVICE_UNAVAILABLE (and the
 *   job goes on); once Postgres is back the coalesced write lands and the job can finish.
 * - kill -9: a restart shows the latest committed state, or the bus's newer one (Redis), and a follower resumes
 *   from before the crash gap-free; with the in-process bus, what was committed.
 * - graceful shutdown writes the pending progress.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, queryDb } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { mintToken, startServer, startServerProcess, type ServerProcess, type TestServer } from '../helpers/server.js';
import { openSse, type SseClient } from '../helpers/sse.js';
import { call, createJob, generationSse, generationWs, postProgress } from '../realtime/support.js';

const USER = 'pia';
/** Long enough that no coalesced write happens during a test: what Postgres holds is what was committed. */
const NEVER_MS = '60000';

const stored = async (url: string, id: string) =>
  (await queryDb<{ status: string; progress: number; version: number }>(url, 'SELECT status, progress, version FROM jobs WHERE id = $1', [id]))[0]!;

describe('job progress while Postgres is down', () => {
  const sockets: JsonWsClient[] = [];
  let server: TestServer | undefined;
  let pg: PostgresServer | undefined;
  afterAll(async () => {
    for (const s of sockets) s.close();
    await server?.close();
    pg?.stop();
  });

  it.each([
    ['Redis bus', true],
    ['in-process bus', false],
  ])('%s: steps accepted and delivered, a terminal state refused with 503 until Postgres is back', async (_name, withRedis) => {
    for (const s of sockets.splice(0)) s.close();
    await server?.close();
    pg?.stop();
    pg = await startPostgres();
    server = await startServer({
      DATABASE_URL: pg.url,
      ...(withRedis ? { REDIS_URL: inject('redisUrl'), REDIS_PREFIX: `pgdown${Date.now()}` } : {}),
      JOB_WRITE_INTERVAL_MS: '50',
    });
    const base = server.url;
    const { job_id: id } = await createJob(base, { user_id: USER });
    const follower = await openJsonWs(generationWs(base, id, mintToken(USER)));
    sockets.push(follower);
    await follower.waitForType('job_progress');

    pg.pause();
    const seen = (p: number) => follower.waitFor((m) => m.type === 'job_progress' && m.data.progress === p, 10_000, `progress ${p}`);
    for (const progress of [0.1, 0.2, 0.3]) {
      const res = await postProgress(base, id, { status: 'processing', progress, current_step: `step ${progress}` });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ status: 'processing', progress });
      await seen(progress);
    }
    const read = await call(base, 'GET', `/api/v1/jobs/${id}`, { token: mintToken(USER) });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ status: 'processing', progress: 0.3, current_step: 'step 0.3' });

    const refused = await postProgress(base, id, { status: 'completed', result: { url: 'x' } });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ type: 'error', error_code: 'SERVICE_UNAVAILABLE' });
    // The job goes on: the refused terminal state left nothing behind.
    expect((await postProgress(base, id, { status: 'processing', progress: 0.4 })).status).toBe(200);
    await seen(0.4);
    expect(follower.messages.some((m) => m.data?.status === 'completed')).toBe(false);

    pg.resume();
    // The coalesced write is retried and lands.
    await expect.poll(async () => (await stored(pg!.url, id).catch(() => undefined))?.progress, { timeout: 15_000 }).toBe(0.4);
    const done = await postProgress(base, id, { status: 'completed', result: { url: 'x' } });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    await follower.waitFor((m) => m.data?.status === 'completed', 10_000, 'completed');
    expect((await postProgress(base, id, { status: 'processing', progress: 0.9 })).status).toBe(409);
    expect(await stored(pg.url, id)).toMatchObject({ status: 'completed', progress: 1 });
  });
});

describe('job progress and a crash (kill -9)', () => {
  const processes: ServerProcess[] = [];
  const streams: SseClient[] = [];
  afterAll(async () => {
    for (const s of streams) s.close();
    await Promise.all(processes.map((p) => p.kill9()));
  });

  it('Redis bus: the restart shows the bus’s newer state than Postgres, and a follower resumes gap-free', async () => {
    const databaseUrl = await createTestDatabase('jobcrash');
    const env = { DATABASE_URL: databaseUrl, REDIS_URL: inject('redisUrl'), REDIS_PREFIX: `jobcrash${Date.now()}`, LOG_LEVEL: 'warn' };
    const first = await startServerProcess({ ...env, JOB_WRITE_INTERVAL_MS: NEVER_MS });
    processes.push(first);
    const { job_id: id } = await createJob(first.url, { user_id: USER });
    const stream = await openSse(generationSse(first.url, id, mintToken(USER)));
    streams.push(stream);
    const steps = [0.1, 0.2, 0.3, 0.4, 0.5];
    let resumeFrom: string | undefined;
    for (const progress of steps) {
      expect((await postProgress(first.url, id, { status: 'processing', progress })).status).toBe(200);
      await stream.waitFor((e) => e.json?.data?.progress === progress, 10_000, `step ${progress}`);
      if (progress === 0.2) resumeFrom = stream.lastEventId();
    }
    // Not committed: Postgres still has the job as it was created.
    expect(await stored(databaseUrl, id)).toMatchObject({ status: 'queued', progress: 0 });
    await first.kill9();
    stream.close();

    const second = await startServerProcess(env);
    processes.push(second);
    const read = await call(second.url, 'GET', `/api/v1/jobs/${id}`, { token: mintToken(USER) });
    expect(read.body).toMatchObject({ status: 'processing', progress: 0.5 });
    // A follower that saw 0.2 before the crash gets exactly 0.3, 0.4, 0.5 (then the rest live).
    const resumed = await openSse(generationSse(second.url, id, mintToken(USER)), { 'last-event-id': resumeFrom! });
    streams.push(resumed);
    await resumed.waitFor((e) => e.json?.data?.progress === 0.5, 10_000, 'the resumed stream catches up');
    expect(resumed.events.filter((e) => e.json?.type === 'job_progress').map((e) => e.json.data.progress)).toEqual([0.3, 0.4, 0.5]);
    expect(resumed.events.some((e) => e.json?.type === 'reset')).toBe(false);
    // The job goes on from the bus's state, and Postgres catches up.
    expect((await postProgress(second.url, id, { status: 'processing', progress: 0.6 })).status).toBe(200);
    await resumed.waitFor((e) => e.json?.data?.progress === 0.6, 10_000, 'live after the resume');
    await expect.poll(async () => (await stored(databaseUrl, id)).progress, { timeout: 10_000 }).toBe(0.6);
  });

  it('in-process bus: the restart shows what was committed; terminal states always are', async () => {
    const databaseUrl = await createTestDatabase('jobcrashmem');
    const env = { DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' };
    const first = await startServerProcess({ ...env, JOB_WRITE_INTERVAL_MS: NEVER_MS });
    processes.push(first);
    const running = (await createJob(first.url, { user_id: USER })).job_id;
    const finished = (await createJob(first.url, { user_id: USER })).job_id;
    expect((await postProgress(first.url, running, { status: 'processing', progress: 0.7 })).status).toBe(200);
    expect((await postProgress(first.url, finished, { status: 'processing', progress: 0.5 })).status).toBe(200);
    expect((await postProgress(first.url, finished, { status: 'completed', result: { pages: 3 } })).status).toBe(200);
    await first.kill9();

    const second = await startServerProcess(env);
    processes.push(second);
    const token = mintToken(USER);
    expect((await call(second.url, 'GET', `/api/v1/jobs/${running}`, { token })).body).toMatchObject({ status: 'queued', progress: 0 });
    expect((await call(second.url, 'GET', `/api/v1/jobs/${finished}`, { token })).body).toMatchObject({
      status: 'completed',
      progress: 1,
      result: { pages: 3 },
    });
    expect((await postProgress(second.url, finished, { status: 'processing' })).status).toBe(409);
    expect((await postProgress(second.url, running, { status: 'processing', progress: 0.8 })).status).toBe(200);
  });
});

describe('graceful shutdown', () => {
  it('writes the pending coalesced progress before the store closes', async () => {
    const databaseUrl = await createTestDatabase('jobshutdown');
    const server = await startServerProcess({
      DATABASE_URL: databaseUrl,
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: `jobstop${Date.now()}`,
      JOB_WRITE_INTERVAL_MS: NEVER_MS,
    });
    try {
      const { job_id: id } = await createJob(server.url, { user_id: USER });
      expect((await postProgress(server.url, id, { status: 'processing', progress: 0.7, message: 'almost' })).status).toBe(200);
      expect(await stored(databaseUrl, id)).toMatchObject({ status: 'queued', progress: 0 });
      const { code } = await server.terminate();
      expect(code).toBe(0);
      expect(await stored(databaseUrl, id)).toMatchObject({ status: 'processing', progress: 0.7 });
    } finally {
      await server.kill9();
    }
  });
});
