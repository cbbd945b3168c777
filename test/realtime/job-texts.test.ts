/**
 * A progress step's state, event and answer encoded together (server/jobs/job-texts.ts) are byte for byte what the
 * generic encoders write: encodeRecord, JSON.stringify(progressMessage) and Fastify's JobResponse serializer; and over
 * HTTP, a POST's answer is the bytes a GET of the same state gets from the serializer, and a follower's event the
 * generic job_progress text.
 */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_STATUSES, JobResponse } from '../../shared/messages.js';
import { progressMessage, jobResponse } from '../../server/jobs/job-messages.js';
import { applyUpdate, encodeRecord } from '../../server/jobs/job-record.js';
import { encodeStep } from '../../server/jobs/job-texts.js';
import type { Job } from '../../server/store/jobs.js';
import { createTestDatabase } from '../helpers/database.js';
import { openSse } from '../helpers/sse.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { createJob, generationSse, workerToken } from './support.js';

const TRICKY = [
  'plain',
  '',
  'quote " and backslash \\ and slash /',
  'control \u0001 \n \t \u001f and del \u007f',
  'ünïcødé ✓ 😀 and a lone surrogate \ud800 and \udc00',
  `long ${'x'.repeat(60)} "quoted"`,
  `longer ${'y'.repeat(6000)}\\`,
  '</script>\u2028\u2029',
];

const base: Job = {
  id: 'job-1',
  userId: 'alice',
  kind: 'render',
  title: 'Deck',
  status: 'queued',
  progress: 0,
  currentStep: null,
  message: null,
  estimatedCompletion: null,
  result: null,
  error: null,
  version: 1,
  createdAt: '2026-11-30T18:00:00.000Z',
  updatedAt: '2026-11-30T18:00:00.000Z',
  completedAt: null,
};

function jobs(): Job[] {
  const out: Job[] = [];
  let version = 2;
  for (const text of TRICKY) {
    const tricky = { ...base, id: `job-${text.slice(0, 8)}`, userId: text || 'u', kind: text || 'k', title: text };
    for (const status of JOB_STATUSES) {
      for (const progress of [0, 1, 0.1 + 0.2, 1e-7, 0.5]) {
        out.push(applyUpdate(tricky, { status, progress, current_step: text, message: text }, version++));
      }
    }
    out.push(applyUpdate(tricky, { status: 'processing', estimated_completion: '2030-01-01T00:00:00Z', current_step: null }, version++));
    out.push(applyUpdate(tricky, { status: 'completed', result: { url: text, n: [1, 2.5, null, true], nested: { t: text } } }, version++));
    out.push(applyUpdate(tricky, { status: 'failed', error: text }, version++));
    out.push(applyUpdate({ ...tricky, title: null }, { status: 'processing', result: [text], error: { text } }, version++));
  }
  return out;
}

describe('job texts', () => {
  it('are the generic encoders’ bytes: bus state, job_progress payload, JobResponse answer', async () => {
    const app = Fastify();
    let current: Job = base;
    app.get('/job', { schema: { response: { 200: JobResponse } } }, async () => jobResponse(current));
    try {
      const all = jobs();
      expect(all.length).toBeGreaterThan(200);
      for (const job of all) {
        const texts = encodeStep(job);
        expect(texts, job.id).not.toBeNull();
        expect(texts!.state).toBe(encodeRecord({ job }).value);
        expect(texts!.event).toBe(JSON.stringify(progressMessage(job)));
        current = job;
        const res = await app.inject({ method: 'GET', url: '/job' });
        expect(res.statusCode).toBe(200);
        expect(texts!.reply).toBe(res.body);
      }
    } finally {
      await app.close();
    }
  });

  it('are null for a job whose fields are not of their plain types (the generic encoders decide then)', () => {
    const ok = applyUpdate(base, { status: 'processing', progress: 0.5 }, 2);
    expect(encodeStep(ok)).not.toBeNull();
    const odd: Partial<Record<keyof Job, unknown>>[] = [
      { result: undefined },
      { error: undefined },
      { result: () => 1 },
      { status: 'exploded' },
      { progress: Number.NaN },
      { progress: Number.POSITIVE_INFINITY },
      { progress: '0.5' },
      { version: undefined },
      { title: 3 },
      { title: undefined },
      { message: { text: 'x' } },
      { currentStep: undefined },
      { estimatedCompletion: new Date() },
      { completedAt: undefined },
      { id: 7 },
      { userId: null },
      { kind: undefined },
      { createdAt: null },
      { updatedAt: undefined },
    ];
    for (const change of odd) expect(encodeStep({ ...ok, ...change } as Job), JSON.stringify(Object.keys(change))).toBeNull();
  });
});

describe('job texts over HTTP', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('job_texts') });
  });
  afterAll(async () => {
    await server?.close();
  });

  const raw = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${workerToken()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, type: res.headers.get('content-type'), length: res.headers.get('content-length'), text: await res.text() };
  };

  it('a POST’s answer is the serializer’s bytes (a GET of that state), a follower’s event the job_progress text', async () => {
    const { job_id: id } = await createJob(server.url, { user_id: 'tess', title: 'quote " ✓' });
    const stream = await openSse(generationSse(server.url, id, mintToken('tess')));
    try {
      await stream.waitFor((e) => e.json?.type === 'job_progress', 10_000, 'the current state');
      for (const message of TRICKY.slice(0, 6)) {
        const posted = await raw('POST', `/api/v1/jobs/${id}/progress`, { status: 'processing', progress: 0.3, current_step: message, message });
        expect(posted.status).toBe(200);
        const read = await raw('GET', `/api/v1/jobs/${id}`);
        expect(read.status).toBe(200);
        expect(posted.text).toBe(read.text);
        expect(posted.type).toBe(read.type);
        expect(posted.type).toBe('application/json; charset=utf-8');
        expect(posted.length).toBe(String(Buffer.byteLength(posted.text)));
        const job = JSON.parse(read.text);
        const expected = JSON.stringify({
          type: 'job_progress',
          job_id: id,
          data: {
            status: job.status,
            progress: job.progress,
            current_step: job.current_step,
            message: job.message,
            estimated_completion: job.estimated_completion,
            kind: job.kind,
          },
          timestamp: job.updated_at,
        });
        const event = await stream.waitFor((e) => e.json?.timestamp === job.updated_at && e.json?.data?.message === message, 10_000, 'the step');
        expect(event.data).toBe(expected);
      }
    } finally {
      stream.close();
    }
  });
});
