/**
 * Redis restarted under job and notification subscribers on another instance (docs/bus.md),
 * twice: a Redis without persistence (its streams and epoch are gone: the bus reports a gap) and one with an
 * append-only file (its history survives: nothing tells subscribers about the publishes that failed meanwhile, so
 * the publishers must publish again). Two instances share the private Redis and Postgres; WebSocket and SSE
 * subscribers on B follow a job and a user's notifications (plus `general` broadcasts) published through A before,
 * during (Redis down: the publishing requests still succeed, promptly: Postgres holds the state) and after the restart.
 *
 * Every subscriber must end with the final state, and what it saw must be either the gap-free sequence or contain an
 * explicit `reset` wherever something was skipped: never a silent gap. User notifications arrive exactly once each.
 * SSE resumes with a `Last-Event-ID` from before the restart (on either instance) likewise: the exact events after it,
 * or a `reset`. Subscribers that connect while Redis is down either get the current state and follow like the others,
 * or are told to come back (WS close 1013, SSE `error` then the end). OUTAGE_MS sets how long Redis stays down
 * (npm run test:soak: 20 s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { openJsonWs, type JsonWsClient } from '../helpers/json-ws.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { openSse, type SseClient } from '../helpers/sse.js';
import { call, createJob, generationSse, generationWs, notificationsSse, notificationsWs, notify, postProgress } from '../realtime/support.js';

const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 1500);
const USER = 'rita';

interface JobState {
  status: string;
  progress: number;
}
interface Seen {
  type: 'job_progress' | 'reset';
  state: JobState;
}

/**
 * Checks a job subscriber's view against the published states: each `job_progress` is exactly the next state; a
 * `reset` may skip ahead (never back). Returns the problems found (empty: gap-free or explicitly reset).
 */
function checkJobSequence(name: string, published: JobState[], seen: Seen[]): string[] {
  const problems: string[] = [];
  const indexOf = (s: JobState) => published.findIndex((p) => p.status === s.status && p.progress === s.progress);
  if (seen.length === 0) return [`${name}: saw nothing`];
  let position = indexOf(seen[0]!.state);
  if (position < 0) problems.push(`${name}: first state ${JSON.stringify(seen[0])} was never published`);
  for (const { type, state } of seen.slice(1)) {
    const index = indexOf(state);
    if (index < 0) problems.push(`${name}: ${type} ${JSON.stringify(state)} was never published`);
    else if (type === 'reset') {
      if (index < position) problems.push(`${name}: reset went back from #${position} to #${index}`);
      position = index;
    } else if (index === position + 1) position = index;
    else if (index <= position) problems.push(`${name}: repeated or older state #${index} after #${position}`);
    else
      problems.push(
        `${name}: silent gap from #${position} to #${index} (${JSON.stringify(published.slice(position + 1, index))} never seen, no reset)`,
      );
  }
  if (position !== published.length - 1) problems.push(`${name}: ended at #${position}, not at the final state #${published.length - 1}`);
  return problems;
}

interface NotificationView {
  /** `notification` titles and `reset` markers, in arrival order. */
  items: ({ kind: 'notification'; title: string; channel: string } | { kind: 'reset'; unread: number })[];
}

/** Unread notifications re-sent after a reset (and on connect): the most recent ones (README). */
const UNREAD_RESENT = 100;

/**
 * User notifications: each exactly once, except that after a `reset` announcing more unread notifications than are
 * re-sent, the older ones may be left to GET /notifications (the client was told how many there are). Broadcasts (live
 * only, no read state): each in order, or a `reset` between the last one seen and the next.
 */
function checkNotifications(name: string, userTitles: string[], broadcasts: string[], view: NotificationView): string[] {
  const problems: string[] = [];
  const got = view.items.filter((i) => i.kind === 'notification' && i.channel !== 'general').map((i) => (i as { title: string }).title);
  const counts = new Map<string, number>();
  for (const t of got) counts.set(t, (counts.get(t) ?? 0) + 1);
  // Announced, not re-sent: older than the first user notification delivered after a reset with too many unread.
  let announcedBefore = -1;
  view.items.forEach((item, i) => {
    if (item.kind !== 'reset' || item.unread <= UNREAD_RESENT) return;
    const next = view.items.slice(i + 1).find((n) => n.kind === 'notification' && n.channel !== 'general') as { title: string } | undefined;
    if (next) announcedBefore = Math.max(announcedBefore, userTitles.indexOf(next.title));
  });
  userTitles.forEach((t, i) => {
    const count = counts.get(t) ?? 0;
    if (count > 1 || (count === 0 && i >= announcedBefore)) problems.push(`${name}: ${t} delivered ${count} times`);
  });
  for (const t of counts.keys()) if (!userTitles.includes(t)) problems.push(`${name}: unexpected ${t}`);
  let position = -1;
  let resetSince = false;
  for (const item of view.items) {
    if (item.kind === 'reset') resetSince = true;
    else if (item.channel === 'general') {
      const index = broadcasts.indexOf(item.title);
      if (index === position + 1 || (index > position && resetSince)) {
        position = index;
        resetSince = false;
      } else problems.push(`${name}: broadcast ${item.title} after #${position} without a reset`);
    }
  }
  if (position !== broadcasts.length - 1 && !resetSince)
    problems.push(`${name}: last broadcast seen #${position} of ${broadcasts.length - 1}, and no reset`);
  return problems;
}

const jobView = (messages: { type?: string; data?: JobState }[]): Seen[] =>
  messages
    .filter((m) => m.type === 'job_progress' || m.type === 'reset')
    .map((m) => ({ type: m.type as Seen['type'], state: { status: m.data!.status, progress: m.data!.progress } }));

const wsNotificationView = (messages: any[]): NotificationView => ({
  items: messages
    .filter((m) => m.type === 'notification' || m.type === 'reset')
    .map((m) => (m.type === 'reset' ? { kind: 'reset', unread: m.unread_count } : { kind: 'notification', title: m.title, channel: m.channel })),
});
const sseNotificationView = (stream: SseClient): NotificationView => wsNotificationView(stream.events.map((e) => e.json));

interface RestartKind {
  name: string;
  start(port?: number): Promise<RedisServer>;
}

describe('realtime: Redis restarted under job and notification subscribers', () => {
  let redis: RedisServer | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'deckhand-redis-'));
  const servers: TestServer[] = [];
  const sockets: JsonWsClient[] = [];
  const streams: SseClient[] = [];
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const s of streams) s.close();
    for (const s of servers) await s.close();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const KINDS: RestartKind[] = [
    { name: 'without persistence (history lost)', start: (port) => startRedis(port) },
    { name: 'with an append-only file (history kept)', start: (port) => startRedis(port, { appendOnlyDir: dataDir }) },
  ];

  it.each(KINDS)(
    `Redis $name: subscribers on B end with the final state, gap-free or explicitly reset; so do resumes (outage ${OUTAGE_MS} ms)`,
    async (kind) => {
      await redis?.stop();
      for (const s of servers.splice(0)) await s.close();
      redis = await kind.start();
      const env = {
        DATABASE_URL: await createTestDatabase('rtredis'),
        REDIS_URL: redis.url,
        REDIS_PREFIX: 'rtr',
        HTTP_RATE_LIMIT_MAX: '100000',
        AUTO_NOTIFICATIONS: 'none',
      };
      const [a, b] = await Promise.all([startServer(env), startServer(env)]);
      servers.push(a!, b!);
      const A = a!.url;
      const B = b!.url;
      const token = mintToken(USER);

      const { job_id: jobId } = await createJob(A, { user_id: USER });
      const published: JobState[] = [{ status: 'queued', progress: 0 }];
      const userTitles: string[] = [];
      const broadcasts: string[] = [];
      let step = 0;
      let slowest = 0;
      const publishRound = async (phase: string) => {
        step++;
        const progress = step / 10_000;
        const started = Date.now();
        const res = await postProgress(A, jobId, { status: 'processing', progress });
        expect(res.status, `progress during ${phase}`).toBe(200);
        slowest = Math.max(slowest, Date.now() - started);
        published.push({ status: 'processing', progress });
        const title = `n${step} (${phase})`;
        expect((await notify(A, { user_id: USER, title })).status, `notification during ${phase}`).toBe(201);
        userTitles.push(title);
        const broadcast = `b${step} (${phase})`;
        expect((await notify(A, { channel: 'general', title: broadcast })).status, `broadcast during ${phase}`).toBe(201);
        broadcasts.push(broadcast);
      };

      const jobWs = await openJsonWs(generationWs(B, jobId, token));
      const noteWs = await openJsonWs(notificationsWs(B, token));
      sockets.push(jobWs, noteWs);
      const jobSse = await openSse(generationSse(B, jobId, token));
      const noteSse = await openSse(notificationsSse(B, token));
      streams.push(jobSse, noteSse);
      await Promise.all([jobWs.waitForType('job_progress'), noteWs.waitForType('connected'), jobSse.waitForCount(1)]);

      // Before.
      for (let i = 0; i < 3; i++) await publishRound('before');
      await jobWs.waitFor((m) => m.data?.progress === published.at(-1)!.progress, 5000, 'job state before');
      await jobSse.waitFor((e) => e.json?.data?.progress === published.at(-1)!.progress, 5000, 'SSE job state before');
      await noteSse.waitFor((e) => e.json?.title === broadcasts.at(-1), 5000, 'SSE broadcast before');
      await noteWs.waitFor((m) => m.title === broadcasts.at(-1), 5000, 'WS broadcast before');
      const jobResume = { id: jobSse.lastEventId()!, state: published.at(-1)! };
      const noteResume = { id: noteSse.lastEventId()!, users: userTitles.length, broadcasts: broadcasts.length };
      expect(jobResume.id).toBeTruthy();
      expect(noteResume.id).toBeTruthy();

      // During: Redis is down; requests still succeed (Postgres holds the state).
      await redis.stop();
      const downSince = Date.now();
      await publishRound('during');
      // Subscribers arriving now: on a channel B already follows (the job), and on one it does not (a new job).
      const lateWs = await openJsonWs(generationWs(B, jobId, token));
      const lateSse = await openSse(generationSse(B, jobId, token));
      const { job_id: newJob } = await createJob(A, { user_id: USER });
      const newWs = await openJsonWs(generationWs(B, newJob, token));
      const newSse = await openSse(generationSse(B, newJob, token));
      sockets.push(lateWs, newWs);
      streams.push(lateSse, newSse);
      while (Date.now() - downSince < OUTAGE_MS) {
        await publishRound('during');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await call(A, 'GET', `/api/v1/jobs/${jobId}`, { token })).body.progress).toBe(published.at(-1)!.progress);
      // Without Redis the API answers at once: it neither waits for the rate limiter's store nor for the bus.
      expect(slowest, 'slowest progress request while Redis is down (ms)').toBeLessThan(1000);
      // Each either got the current state, or was told to come back (WS close 1013; SSE `error`, then the end).
      const settled = (client: JsonWsClient) =>
        Promise.race([client.waitForType('job_progress', 15_000).then(() => 'state'), client.closed.then((c) => `closed ${c.code}`)]);
      const settledSse = (stream: SseClient) =>
        stream.status !== 200
          ? Promise.resolve(`status ${stream.status}`)
          : Promise.race([
              stream.waitFor((e) => e.json?.type === 'job_progress', 15_000).then(() => 'state'),
              stream.ended.then(() => `ended after ${stream.events.at(-1)?.json?.type}`),
            ]);
      const late = { ws: await settled(lateWs), sse: await settledSse(lateSse), newWs: await settled(newWs), newSse: await settledSse(newSse) };
      for (const outcome of Object.values(late)) expect(['state', 'closed 1013', 'ended after error'], JSON.stringify(late)).toContain(outcome);

      // After: Redis is back (empty), publishing goes on, then the job completes.
      redis = await kind.start(redis.port);
      for (let i = 0; i < 3; i++) {
        await publishRound('after');
        await new Promise((r) => setTimeout(r, 150));
      }
      expect((await postProgress(A, jobId, { status: 'completed' })).status).toBe(200);
      published.push({ status: 'completed', progress: 1 });
      expect((await postProgress(A, newJob, { status: 'completed' })).status).toBe(200);
      const finalBroadcast = 'final';
      expect((await notify(A, { channel: 'general', title: finalBroadcast })).status).toBe(201);
      broadcasts.push(finalBroadcast);

      await jobWs.waitFor((m) => m.data?.status === 'completed', 15_000, 'WS: the final state');
      await jobSse.waitFor((e) => e.json?.data?.status === 'completed', 15_000, 'SSE: the final state');
      const lastUser = userTitles.at(-1);
      await noteWs.waitFor((m) => m.title === lastUser, 15_000, 'WS: the last notification');
      await noteSse.waitFor((e) => e.json?.title === lastUser, 15_000, 'SSE: the last notification');
      await noteWs.waitFor((m) => m.title === finalBroadcast, 15_000, 'WS: the last broadcast');
      await noteSse.waitFor((e) => e.json?.title === finalBroadcast, 15_000, 'SSE: the last broadcast');
      // Late subscribers that got a state are subscribers like the others: they end with the final state, no silent gap.
      const lateViews: [string, Seen[]][] = [];
      if (late.ws === 'state') {
        await lateWs.waitFor((m) => m.data?.status === 'completed', 15_000, 'late WS: the final state');
        lateViews.push(['late job WS', jobView(lateWs.messages)]);
      }
      if (late.sse === 'state') {
        await lateSse.waitFor((e) => e.json?.data?.status === 'completed', 15_000, 'late SSE: the final state');
        lateViews.push(['late job SSE', jobView(lateSse.events.map((e) => e.json))]);
      }
      if (late.newWs === 'state') await newWs.waitFor((m) => m.data?.status === 'completed', 15_000, 'new job WS: the final state');
      if (late.newSse === 'state') await newSse.waitFor((e) => e.json?.data?.status === 'completed', 15_000, 'new job SSE: the final state');

      await new Promise((r) => setTimeout(r, 500)); // anything late (a repeat) would arrive now
      if (process.env.DEBUG_RTR) console.log('LATE', JSON.stringify(late));
      const problems = [
        ...checkJobSequence('job WS', published, jobView(jobWs.messages)),
        ...checkJobSequence('job SSE', published, jobView(jobSse.events.map((e) => e.json))),
        ...lateViews.flatMap(([name, view]) => checkJobSequence(name, published, view)),
        ...checkNotifications('notifications WS', userTitles, broadcasts, wsNotificationView(noteWs.messages)),
        ...checkNotifications('notifications SSE', userTitles, broadcasts, sseNotificationView(noteSse)),
      ];
      expect(problems).toEqual([]);
      for (const client of [jobWs, noteWs]) expect(client.closeInfo).toBeUndefined();
      expect(jobSse.isEnded() || noteSse.isEnded()).toBe(false);

      // SSE resumes with ids from before the restart, on either instance: the exact events after them, or a `reset`.
      for (const base of [A, B]) {
        const resumedJob = await openSse(generationSse(base, jobId, token), { 'last-event-id': jobResume.id });
        streams.push(resumedJob);
        await resumedJob.waitFor((e) => e.json?.data?.status === 'completed', 10_000, 'resumed job: the final state');
        const resumedView: Seen[] = [{ type: 'job_progress', state: jobResume.state }, ...jobView(resumedJob.events.map((e) => e.json))];
        expect(checkJobSequence(`job resume on ${base === A ? 'A' : 'B'}`, published, resumedView)).toEqual([]);

        const resumedNotes = await openSse(notificationsSse(base, token), { 'last-event-id': noteResume.id });
        streams.push(resumedNotes);
        const first = await resumedNotes.waitFor(() => true, 10_000, 'first event');
        if (first.json?.type === 'reset') {
          expect(first.json.unread_count).toBe(userTitles.length);
          const resent = userTitles.slice(-UNREAD_RESENT);
          await resumedNotes.waitForCount(1 + resent.length, 10_000);
          expect(resumedNotes.events.slice(1).map((e) => e.json.title)).toEqual(resent);
        } else {
          await resumedNotes.waitFor((e) => e.json?.title === finalBroadcast, 10_000, 'resumed notifications: the last broadcast');
          await new Promise((r) => setTimeout(r, 300));
          const name = `notifications resume on ${base === A ? 'A' : 'B'}`;
          expect(
            checkNotifications(name, userTitles.slice(noteResume.users), broadcasts.slice(noteResume.broadcasts), sseNotificationView(resumedNotes)),
          ).toEqual([]);
        }
      }
    },
  );
});
