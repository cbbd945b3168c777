/**
 * Job progress on one instance with the in-process bus: REST rules, WebSocket and SSE delivery (current state first,
 * then every state in order), SSE resume without gap or repeat, and `reset` when the resume point is not in history.
 */
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { openSse, type SseClient } from '../helpers/sse.js';
import { call, createJob, generationSse, generationWs, postProgress, workerToken } from './support.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const EVENT_ID = /^[0-9a-f]{8}\.\d+-\d+$/;

describe('jobs: REST, WebSocket and SSE on the in-process bus', () => {
  let server: TestServer;
  let databaseUrl: string;
  const sockets: JsonWsClient[] = [];
  const streams: SseClient[] = [];

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('jobs');
    server = await startServer({ DATABASE_URL: databaseUrl, SSE_KEEPALIVE_INTERVAL: '1' });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const s of streams) s.close();
    await server?.close();
  });

  const ws = async (url: string) => {
    const client = await openJsonWs(url);
    sockets.push(client);
    return client;
  };
  const sse = async (url: string, headers?: Record<string, string>) => {
    const client = await openSse(url, headers);
    streams.push(client);
    return client;
  };

  it('REST: create, read by owner and services only, progress, terminal states are final', async () => {
    const created = await createJob(server.url, { user_id: 'alice', title: 'Deck export' });
    expect(created).toMatchObject({ user_id: 'alice', kind: 'render', title: 'Deck export', status: 'queued', progress: 0 });
    expect(created.job_id).toMatch(/^[0-9a-f-]{36}$/);
    const id = created.job_id;

    expect((await call(server.url, 'GET', `/api/v1/jobs/${id}`, { token: mintToken('alice') })).status).toBe(200);
    expect((await call(server.url, 'GET', `/api/v1/jobs/${id}`, { token: workerToken() })).status).toBe(200);
    const other = await call(server.url, 'GET', `/api/v1/jobs/${id}`, { token: mintToken('mallory') });
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ type: 'error', error_code: 'PERMISSION_DENIED' });
    expect(other.body.timestamp).toMatch(ISO);
    expect((await call(server.url, 'GET', '/api/v1/jobs/nope', { token: workerToken() })).body.error_code).toBe('NOT_FOUND');

    const dup = await call(server.url, 'POST', '/api/v1/jobs', { token: workerToken(), body: { job_id: id, user_id: 'alice', kind: 'x' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error_code).toBe('CONFLICT');

    const step = await postProgress(server.url, id, {
      status: 'processing',
      progress: 0.4,
      current_step: 'rendering',
      message: 'slide 4 of 10',
      estimated_completion: '2030-01-01T00:00:00.000Z',
    });
    expect(step.status).toBe(200);
    expect(step.body).toMatchObject({
      status: 'processing',
      progress: 0.4,
      current_step: 'rendering',
      estimated_completion: '2030-01-01T00:00:00.000Z',
    });

    for (const bad of [{ status: 'processing', progress: 1.5 }, { status: 'exploded' }, { progress: 0.5 }, { status: 'processing', extra: 1 }]) {
      const res = await postProgress(server.url, id, bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_MESSAGE');
    }
    const asUser = await call(server.url, 'POST', `/api/v1/jobs/${id}/progress`, { token: mintToken('alice'), body: { status: 'failed' } });
    expect(asUser.status).toBe(403);
    expect(asUser.body.error_code).toBe('PERMISSION_DENIED');

    const done = await postProgress(server.url, id, { status: 'completed', result: { url: 'https://cdn/x.pdf', pages: [1, 2] } });
    expect(done.body).toMatchObject({ status: 'completed', progress: 1, result: { url: 'https://cdn/x.pdf', pages: [1, 2] } });
    expect(done.body.completed_at).toMatch(ISO);
    const late = await postProgress(server.url, id, { status: 'processing', progress: 0.9 });
    expect(late.status).toBe(409);
    expect(late.body.error_code).toBe('CONFLICT');
    expect((await postProgress(server.url, id, { status: 'failed', error: 'boom' })).status).toBe(409);
    expect((await postProgress(server.url, 'missing-job', { status: 'failed' })).status).toBe(404);
  });

  it('WebSocket: connected, the current state first, then every update in order; more jobs on one socket', async () => {
    const { job_id: first } = await createJob(server.url, { user_id: 'bob' });
    const { job_id: second } = await createJob(server.url, { user_id: 'bob' });
    await postProgress(server.url, first, { status: 'processing', progress: 0.1, current_step: 'queued work' });

    const client = await ws(generationWs(server.url, first, mintToken('bob')));
    const state = await client.waitForType('job_progress');
    expect(client.messages[0]).toMatchObject({ type: 'connected', user_id: 'bob', job_id: first });
    expect(state).toEqual({
      event_id: expect.stringMatching(EVENT_ID),
      type: 'job_progress',
      job_id: first,
      data: { status: 'processing', progress: 0.1, current_step: 'queued work', message: null, estimated_completion: null, kind: 'render' },
      timestamp: expect.stringMatching(ISO),
    });

    for (let i = 2; i <= 6; i++) await postProgress(server.url, first, { status: 'processing', progress: i / 10 });
    await client.waitFor((m) => m.type === 'job_progress' && m.data.progress === 0.6);
    const progress = client.messages.filter((m) => m.type === 'job_progress').map((m) => m.data.progress);
    expect(progress).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);

    // A second job on the same socket: its state first, then its updates.
    client.send({ type: 'subscribe_job', job_id: second });
    await client.waitFor((m) => m.type === 'job_progress' && m.job_id === second);
    await postProgress(server.url, second, { status: 'processing', progress: 0.5 });
    await client.waitFor((m) => m.job_id === second && m.data?.progress === 0.5);

    client.send({ type: 'unsubscribe_job', job_id: first });
    await client.waitFor((m) => m.type === 'unsubscribed' && m.job_id === first);
    const before = client.messages.length;
    await postProgress(server.url, first, { status: 'completed' });
    await postProgress(server.url, second, { status: 'completed', result: { url: 'https://cdn/second.pdf' } });
    const completed = await client.waitFor((m) => m.job_id === second && m.data?.status === 'completed');
    // A completed job carries its result (and no error).
    expect(completed.data).toEqual({
      status: 'completed',
      progress: 1,
      current_step: null,
      message: null,
      estimated_completion: null,
      kind: 'render',
      result: { url: 'https://cdn/second.pdf' },
    });
    expect(client.messages.slice(before).some((m) => m.job_id === first)).toBe(false);

    client.send({ type: 'ping' });
    await client.waitForType('pong');
    for (const m of client.messages) expect(m.timestamp).toMatch(ISO);
  });

  it('WebSocket: every state carries its event_id; ?last_event_id= and subscribe_job resume with no gap and no repeat, or `reset`', async () => {
    const { job_id: id } = await createJob(server.url, { user_id: 'gus' });
    const { job_id: other } = await createJob(server.url, { user_id: 'gus' });
    const token = mintToken('gus');
    const first = await ws(generationWs(server.url, id, token));
    await first.waitForType('job_progress');
    for (let i = 1; i <= 3; i++) await postProgress(server.url, id, { status: 'processing', progress: i / 10 });
    await first.waitFor((m) => m.type === 'job_progress' && m.data.progress === 0.3);
    const states = first.messages.filter((m) => m.type === 'job_progress');
    expect(states.every((m) => EVENT_ID.test(m.event_id))).toBe(true);
    expect(new Set(states.map((m) => m.event_id)).size).toBe(states.length);
    const resumeFrom = states.at(-1)!.event_id as string;
    first.close();

    for (let i = 4; i <= 6; i++) await postProgress(server.url, id, { status: 'processing', progress: i / 10 });

    const resumed = await ws(`${generationWs(server.url, id, token)}&last_event_id=${encodeURIComponent(resumeFrom)}`);
    await resumed.waitFor((m) => m.type === 'job_progress' && m.data.progress === 0.6);
    await postProgress(server.url, id, { status: 'processing', progress: 0.7 });
    await resumed.waitFor((m) => m.type === 'job_progress' && m.data.progress === 0.7);
    const replayed = resumed.messages.filter((m) => m.type === 'job_progress');
    expect(replayed.map((m) => m.data.progress)).toEqual([0.4, 0.5, 0.6, 0.7]);

    // The same for a job added with subscribe_job (from an id of that job's stream), on a socket that follows another.
    const own = await ws(generationWs(server.url, other, token));
    const otherStart = await own.waitFor((m) => m.type === 'job_progress' && m.job_id === other);
    await postProgress(server.url, other, { status: 'processing', progress: 0.9 });
    await own.waitFor((m) => m.job_id === other && m.data?.progress === 0.9);
    own.send({ type: 'subscribe_job', job_id: id, last_event_id: resumeFrom });
    await own.waitFor((m) => m.job_id === id && m.data?.progress === 0.7);
    expect(own.messages.filter((m) => m.job_id === id).map((m) => m.data.progress)).toEqual([0.4, 0.5, 0.6, 0.7]);

    // A resume point the history does not cover: `reset` with the current state, tagged with an id to resume from.
    const stale = await ws(`${generationWs(server.url, other, token)}&last_event_id=not-an-id`);
    const reset = await stale.waitForType('reset');
    expect(reset).toMatchObject({ type: 'reset', job_id: other, data: { progress: 0.9 }, event_id: expect.stringMatching(EVENT_ID) });
    expect(stale.messages.some((m) => m.type === 'job_progress')).toBe(false);
    expect(otherStart.event_id).not.toBe(reset.event_id);
    own.send({ type: 'subscribe_job', job_id: other, last_event_id: 'x'.repeat(65) });
    expect(await own.waitForType('error')).toMatchObject({ error_code: 'INVALID_MESSAGE' });
  });

  it('WebSocket: another user’s job is refused (403, close 4403), a missing job is 4404, subscribe errors keep the socket', async () => {
    const { job_id: id } = await createJob(server.url, { user_id: 'carol' });
    const stranger = await ws(generationWs(server.url, id, mintToken('mallory')));
    expect(await stranger.closed).toMatchObject({ code: 4403 });
    expect(stranger.messages.find((m) => m.type === 'error')).toMatchObject({ error_code: 'PERMISSION_DENIED' });
    expect(stranger.messages.some((m) => m.type === 'job_progress')).toBe(false);

    const missing = await ws(generationWs(server.url, 'no-such-job', mintToken('carol')));
    expect(await missing.closed).toMatchObject({ code: 4404 });
    expect(missing.messages.find((m) => m.type === 'error')).toMatchObject({ error_code: 'NOT_FOUND' });

    const { job_id: own } = await createJob(server.url, { user_id: 'mallory' });
    const client = await ws(generationWs(server.url, own, mintToken('mallory')));
    await client.waitForType('job_progress');
    client.send({ type: 'subscribe_job', job_id: id });
    const error = await client.waitForType('error');
    expect(error).toMatchObject({ error_code: 'PERMISSION_DENIED' });
    client.send({ type: 'ping' });
    await client.waitForType('pong');

    // A service token may follow anyone's job.
    const service = await ws(generationWs(server.url, id, workerToken()));
    await service.waitForType('job_progress');
  });

  it('WebSocket: live events of every frame size (7-, 16- and 64-bit lengths) arrive whole, in order, to every follower', async () => {
    // Live events are written as frames encoded once per instance (server/streaming/wire-frame.ts): each length
    // encoding, read by ws's strict client parser, on two sockets, between messages the socket frames itself (pong).
    const { job_id: id } = await createJob(server.url, { user_id: 'fay' });
    const clients = [await ws(generationWs(server.url, id, mintToken('fay'))), await ws(generationWs(server.url, id, mintToken('fay')))];
    for (const client of clients) await client.waitForType('job_progress');
    const sizes = [10, 300, 4000];
    for (const [i, size] of sizes.entries()) {
      await postProgress(server.url, id, { status: 'processing', progress: (i + 1) / 10, message: 'm'.repeat(size) });
      for (const client of clients) client.send({ type: 'ping' });
    }
    const result = { blob: 'r'.repeat(100_000) };
    expect((await postProgress(server.url, id, { status: 'completed', result })).status).toBe(200);
    for (const client of clients) {
      await client.waitFor((m) => m.data?.status === 'completed');
      const live = client.messages.filter((m) => m.type === 'job_progress').slice(1);
      expect(live.map((m) => m.data.message?.length ?? 0)).toEqual([...sizes, 4000]);
      expect(live.at(-1).data.result).toEqual(result);
      expect(live.every((m) => EVENT_ID.test(m.event_id))).toBe(true);
      expect(client.messages.filter((m) => m.type === 'pong')).toHaveLength(3);
      expect(client.closeInfo).toBeUndefined();
    }
  });

  it('SSE (EventSource): the current state first, then every update, each with an id', async () => {
    const { job_id: id } = await createJob(server.url, { user_id: 'dave' });
    const received: { type: string; id: string; data: any }[] = [];
    const source = new EventSource(generationSse(server.url, id, mintToken('dave')));
    try {
      // The events are unnamed: `onmessage` gets them all, the JSON's `type` says what each is.
      source.onmessage = (e) => received.push({ type: e.type, id: e.lastEventId, data: JSON.parse(e.data) });
      const deadline = Date.now() + 10_000;
      while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(received[0]!.data).toMatchObject({ type: 'job_progress', job_id: id, data: { status: 'queued', progress: 0 } });
      for (let i = 1; i <= 5; i++) await postProgress(server.url, id, { status: 'processing', progress: i / 10 });
      await postProgress(server.url, id, { status: 'failed', error: 'out of memory' });
      while (received.length < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(received.map((e) => e.data.data.status)).toEqual(['queued', ...Array(5).fill('processing'), 'failed']);
      expect(received.map((e) => e.data.data.progress)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.5]);
      expect(received.every((e) => e.type === 'message' && e.data.type === 'job_progress')).toBe(true);
      // A failed job says why; a job carries its kind.
      expect(received.at(-1)!.data.data).toMatchObject({ status: 'failed', error: 'out of memory', kind: 'render' });
      expect(received[0]!.data.data).not.toHaveProperty('error');
      for (const e of received) expect(e.id).toBeTruthy();
      expect(new Set(received.map((e) => e.id)).size).toBe(7);
    } finally {
      source.close();
    }
  });

  it('SSE: Last-Event-ID (header or query) resumes with no gap and no repeat; keepalive comments flow', async () => {
    const { job_id: id } = await createJob(server.url, { user_id: 'erin' });
    const token = mintToken('erin');
    const first = await sse(generationSse(server.url, id, token));
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(first.headers['cache-control']).toMatch(/no-cache/);
    await first.waitForCount(1);
    for (let i = 1; i <= 3; i++) await postProgress(server.url, id, { status: 'processing', progress: i / 10 });
    await first.waitForCount(4);
    const resumeFrom = first.lastEventId()!;
    first.close();

    for (let i = 4; i <= 7; i++) await postProgress(server.url, id, { status: 'processing', progress: i / 10 });

    const resumed = await sse(generationSse(server.url, id, token), { 'last-event-id': resumeFrom });
    await resumed.waitForCount(4);
    await postProgress(server.url, id, { status: 'processing', progress: 0.8 });
    await resumed.waitForCount(5);
    expect(resumed.events.map((e) => e.json.data.progress)).toEqual([0.4, 0.5, 0.6, 0.7, 0.8]);
    expect(resumed.events.every((e) => e.json?.type === 'job_progress' && e.id)).toBe(true);

    // The same through ?last_event_id= (a new EventSource cannot set the header).
    const viaQuery = await sse(`${generationSse(server.url, id, token)}&last_event_id=${encodeURIComponent(resumeFrom)}`);
    await viaQuery.waitForCount(5);
    expect(viaQuery.events.map((e) => e.json.data.progress)).toEqual([0.4, 0.5, 0.6, 0.7, 0.8]);

    // Resuming from the newest id: nothing to replay, then live.
    const upToDate = await sse(generationSse(server.url, id, token), { 'last-event-id': resumed.lastEventId()! });
    await postProgress(server.url, id, { status: 'completed' });
    await upToDate.waitForCount(1);
    expect(upToDate.events.map((e) => e.json.data.status)).toEqual(['completed']);

    await resumed.waitFor(() => resumed.comments.includes('keepalive'), 5000, 'a keepalive comment');
    expect(resumed.retry).toBeGreaterThan(0);
  });

  it('SSE: a resume point the history no longer covers (garbage, or from before a restart) gets `reset` with the current state', async () => {
    const { job_id: id } = await createJob(server.url, { user_id: 'fay' });
    const token = mintToken('fay');
    await postProgress(server.url, id, { status: 'processing', progress: 0.3, message: 'halfway' });
    const before = await sse(generationSse(server.url, id, token));
    await before.waitForCount(1);
    const oldId = before.lastEventId()!;
    before.close();

    const garbage = await sse(generationSse(server.url, id, token), { 'last-event-id': 'not-an-id' });
    const reset = await garbage.waitFor((e) => e.json?.type === 'reset');
    expect(reset.json).toMatchObject({ type: 'reset', job_id: id, data: { status: 'processing', progress: 0.3, message: 'halfway' } });
    expect(reset.id).toBeTruthy();

    // A restarted instance (a new in-process history): the old id is from another epoch.
    const restarted = await startServer({ DATABASE_URL: databaseUrl });
    try {
      await postProgress(restarted.url, id, { status: 'processing', progress: 0.6 });
      const resumed = await openSse(generationSse(restarted.url, id, token), { 'last-event-id': oldId });
      try {
        const event = await resumed.waitFor((e) => e.json?.type === 'reset');
        expect(event.json.data).toMatchObject({ status: 'processing', progress: 0.6 });
        expect(resumed.events[0]!.json.type).toBe('reset');
        await postProgress(restarted.url, id, { status: 'completed' });
        await resumed.waitFor((e) => e.json?.type === 'job_progress' && e.json.data.status === 'completed');
        expect(resumed.events.length).toBe(2);
      } finally {
        resumed.close();
      }
    } finally {
      await restarted.close();
    }
  });

  it('SSE errors before the stream are JSON: 401 without a token, 403 for another user, 404 for no job', async () => {
    const { job_id: id } = await createJob(server.url, { user_id: 'gus' });
    const anonymous = await sse(`${server.url}/api/v1/realtime/sse/generation/${id}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.error).toMatchObject({ type: 'error', error_code: 'AUTHENTICATION_FAILED' });
    const stranger = await sse(generationSse(server.url, id, mintToken('mallory')));
    expect(stranger.status).toBe(403);
    expect(stranger.error.error_code).toBe('PERMISSION_DENIED');
    const missing = await sse(generationSse(server.url, 'nope', mintToken('gus')));
    expect(missing.status).toBe(404);
    expect(missing.error.error_code).toBe('NOT_FOUND');
  });
});
