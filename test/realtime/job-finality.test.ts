/**
 * Terminal states are final on every instance (server/jobs/job-completion.ts): the bus state orders every change of a
 * job, and a terminal state is claimed there, committed to Postgres, then published. Two instances sharing Redis and
 * Postgres; a follower on A sees every accepted state exactly once, and nothing after the terminal one.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { jobChannel } from '../../shared/channels.js';
import { RedisBus } from '../../server/bus/redis.js';
import { encodeRecord, type JobRecord } from '../../server/jobs/job-record.js';
import { startPair, type TestPair } from '../helpers/cluster.js';
import { queryDb } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken } from '../helpers/server.js';
import { call, createJob, generationWs, postProgress } from './support.js';

const USER = 'fin';

describe('terminal states across two instances', () => {
  let pair: TestPair;
  let prefix: string;
  const sockets: JsonWsClient[] = [];
  beforeAll(async () => {
    prefix = `final${randomBytes(3).toString('hex')}`;
    pair = await startPair(prefix, { REDIS_PREFIX: prefix, HTTP_RATE_LIMIT_MAX: '100000' });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await pair?.close();
  });

  const follow = async (base: string, id: string) => {
    const client = await openJsonWs(generationWs(base, id, mintToken(USER)));
    sockets.push(client);
    await client.waitForType('job_progress');
    return client;
  };
  const states = (client: JsonWsClient) => client.messages.filter((m) => m.type === 'job_progress' || m.type === 'reset').map((m) => m.data);

  it('completed on B: the next progress on A gets 409 with the status, though A last saw the job running', async () => {
    const { job_id: id } = await createJob(pair.a.url, { user_id: USER });
    expect((await postProgress(pair.a.url, id, { status: 'processing', progress: 0.5 })).status).toBe(200);
    const done = await postProgress(pair.b.url, id, { status: 'completed', result: { ok: true } });
    expect(done.status).toBe(200);
    const late = await postProgress(pair.a.url, id, { status: 'processing', progress: 0.6 });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error_code: 'CONFLICT', details: { status: 'completed' } });
    expect((await postProgress(pair.a.url, id, { status: 'failed', error: 'late' })).status).toBe(409);
  });

  it('progress on B racing a terminal state on A: answered 200 only before it, 409 after; followers see nothing after it', async () => {
    const { job_id: id } = await createJob(pair.a.url, { user_id: USER });
    const follower = await follow(pair.a.url, id);
    let terminalAnsweredAt = Number.POSITIVE_INFINITY;
    const answers: { progress: number; started: number; status: number }[] = [];
    const racer = async (lane: number) => {
      for (let i = 0; i < 15; i++) {
        const progress = Math.round((lane * 100 + i + 1) * 1000) / 1_000_000;
        const started = performance.now();
        const res = await postProgress(pair.b.url, id, { status: 'processing', progress });
        answers.push({ progress, started, status: res.status });
      }
    };
    const racing = [racer(1), racer(2), racer(3)];
    await new Promise((r) => setTimeout(r, 20));
    const terminal = await postProgress(pair.a.url, id, { status: 'completed' });
    terminalAnsweredAt = performance.now();
    await Promise.all(racing);
    expect(terminal.status).toBe(200);

    expect(
      answers.every((a) => a.status === 200 || a.status === 409),
      JSON.stringify(answers.filter((a) => a.status !== 200 && a.status !== 409)),
    ).toBe(true);
    // The race happened: reports were taken before the terminal state and refused after it.
    expect(answers.some((a) => a.status === 200) && answers.some((a) => a.status === 409)).toBe(true);
    // A report that began after the terminal state was answered is refused.
    expect(answers.filter((a) => a.started > terminalAnsweredAt && a.status !== 409)).toEqual([]);
    await follower.waitFor((m) => m.data?.status === 'completed', 10_000, 'completed');
    const seen = states(follower);
    const end = seen.findIndex((s) => s.status === 'completed');
    expect(end).toBe(seen.length - 1);
    // Every accepted report was delivered once, in the order the bus took them (each lane's in its own order).
    const accepted = answers.filter((a) => a.status === 200).map((a) => a.progress);
    const delivered = seen.slice(1, end).map((s) => s.progress);
    expect([...delivered].sort()).toEqual([...accepted].sort());
    for (const lane of [1, 2, 3]) {
      const ofLane = delivered.filter((p) => Math.floor(p * 10) === lane);
      expect(ofLane).toEqual([...ofLane].sort((x, y) => x - y));
    }
    const [row] = await queryDb<{ status: string }>(pair.databaseUrl, 'SELECT status FROM jobs WHERE id = $1', [id]);
    expect(row!.status).toBe('completed');
  });

  /** The claim an instance leaves on the bus if it dies between claiming a terminal state and publishing it. */
  async function leaveExpiredClaim(id: string): Promise<void> {
    const bus = new RedisBus({ url: inject('redisUrl'), prefix });
    try {
      const { state } = await bus.state(jobChannel(id));
      const record = JSON.parse(state!.value) as JobRecord;
      const claim: JobRecord = { job: { ...record.job, version: state!.version + 1 }, closing: { by: 'dead-instance', until: Date.now() - 1 } };
      expect((await bus.commit(jobChannel(id), { expect: state!.version, state: encodeRecord(claim) })).ok).toBe(true);
    } finally {
      await bus.close();
    }
  }

  it('a claim left by an instance that died before committing is dropped: the job goes on', async () => {
    const { job_id: id } = await createJob(pair.a.url, { user_id: USER });
    expect((await postProgress(pair.a.url, id, { status: 'processing', progress: 0.3 })).status).toBe(200);
    await leaveExpiredClaim(id);
    const follower = await follow(pair.b.url, id);
    const res = await postProgress(pair.b.url, id, { status: 'processing', progress: 0.4 });
    expect(res.status).toBe(200);
    await follower.waitFor((m) => m.data?.progress === 0.4, 10_000, 'the next step');
    expect((await call(pair.a.url, 'GET', `/api/v1/jobs/${id}`, { token: mintToken(USER) })).body).toMatchObject({
      status: 'processing',
      progress: 0.4,
    });
  });

  it('a claim left by an instance that died after committing is settled from Postgres: 409, and followers get the terminal state', async () => {
    const { job_id: id } = await createJob(pair.a.url, { user_id: USER });
    expect((await postProgress(pair.a.url, id, { status: 'processing', progress: 0.3 })).status).toBe(200);
    const follower = await follow(pair.b.url, id);
    await leaveExpiredClaim(id);
    // What the dead instance committed before it could publish.
    await queryDb(
      pair.databaseUrl,
      "UPDATE jobs SET status = 'failed', error = '\"gpu lost\"', version = version + 10, completed_at = now() WHERE id = $1",
      [id],
    );
    const res = await postProgress(pair.b.url, id, { status: 'processing', progress: 0.4 });
    expect(res.status).toBe(409);
    expect(res.body.details).toEqual({ status: 'failed' });
    await follower.waitFor((m) => m.data?.status === 'failed', 10_000, 'the terminal state');
    expect((await postProgress(pair.a.url, id, { status: 'processing', progress: 0.5 })).status).toBe(409);
  });
});
