/**
 * The SlideGenie seed's own client examples, as written for browsers, run against Deckhand with plain `ws` and
 * `eventsource` (not the SDK): a WebSocket whose `onmessage` reads `msg.title`, `msg.message`, … of a notification,
 * and an EventSource whose `onmessage` receives job progress (with `result` / `error`) and notifications.
 */
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitFor } from '../helpers/collab-client.js';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';
import { createJob, notify, postProgress, wsBase } from '../realtime/support.js';

describe('the seed’s client examples', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('seedex'), AUTO_NOTIFICATIONS: 'none' });
  });
  afterAll(async () => server?.close());

  it('WebSocket: ws.onmessage shows a notification from msg.title, msg.message, msg.notification_type, …', async () => {
    const token = mintToken('alice');
    const toasts: Record<string, unknown>[] = [];
    // As in the seed:
    const ws = new WebSocket(`${wsBase(server.url)}/api/v1/realtime/notifications?token=${token}`);
    ws.onmessage = (event) => {
      const msg = JSON.parse(String(event.data));
      if (msg.type === 'notification') {
        toasts.push({
          title: msg.title,
          message: msg.message,
          kind: msg.notification_type,
          priority: msg.priority,
          category: msg.category,
          link: msg.action_url,
          label: msg.action_text,
          read: msg.read,
          payload: msg.data,
          id: msg.id,
          channel: msg.channel,
          at: msg.timestamp,
        });
      }
    };
    try {
      await new Promise((resolve) => ws.once('open', resolve));
      await notify(server.url, {
        user_id: 'alice',
        notification_type: 'success',
        title: 'Presentation ready',
        message: 'Your deck “Q3 review” has 12 slides',
        priority: 'high',
        category: 'generation',
        action_url: '/presentations/q3',
        action_text: 'Open',
        data: { presentation_id: 'q3', slides: 12 },
      });
      await waitFor(() => toasts.length === 1, 5000, 'the toast');
      expect(toasts[0]).toEqual({
        title: 'Presentation ready',
        message: 'Your deck “Q3 review” has 12 slides',
        kind: 'success',
        priority: 'high',
        category: 'generation',
        link: '/presentations/q3',
        label: 'Open',
        read: false,
        payload: { presentation_id: 'q3', slides: 12 },
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        channel: 'user_alice',
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    } finally {
      ws.close();
    }
  });

  it('EventSource: onmessage gets every job_progress (result when completed) — no named events to listen for', async () => {
    const { job_id: jobId } = await createJob(server.url, { user_id: 'bob', kind: 'generate' });
    const token = mintToken('bob');
    const updates: any[] = [];
    // As in the seed:
    const source = new EventSource(`${server.url}/api/v1/realtime/sse/generation/${jobId}?token=${token}`);
    source.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (data.type === 'job_progress') updates.push(data.data);
    };
    try {
      await waitFor(() => updates.length === 1, 5000, 'the current state');
      await postProgress(server.url, jobId, { status: 'processing', progress: 0.5, current_step: 'Drafting slides' });
      await postProgress(server.url, jobId, { status: 'completed', result: { presentation_id: 'q3', slides: 12 } });
      await waitFor(() => updates.length === 3, 5000, 'every update');
      expect(updates).toEqual([
        expect.objectContaining({ status: 'queued', progress: 0, kind: 'generate' }),
        expect.objectContaining({ status: 'processing', progress: 0.5, current_step: 'Drafting slides' }),
        expect.objectContaining({ status: 'completed', progress: 1, result: { presentation_id: 'q3', slides: 12 } }),
      ]);
    } finally {
      source.close();
    }
  });

  it('EventSource: a failed job says why (data.error)', async () => {
    const { job_id: jobId } = await createJob(server.url, { user_id: 'bob', kind: 'export' });
    const states: any[] = [];
    const source = new EventSource(`${server.url}/api/v1/realtime/sse/generation/${jobId}?token=${mintToken('bob')}`);
    source.onmessage = (event) => states.push(JSON.parse(event.data));
    try {
      await waitFor(() => states.length === 1, 5000, 'the current state');
      await postProgress(server.url, jobId, { status: 'failed', error: 'the renderer ran out of memory' });
      await waitFor(() => states.length === 2, 5000, 'the failure');
      expect(states[1]).toMatchObject({
        type: 'job_progress',
        job_id: jobId,
        data: { status: 'failed', kind: 'export', error: 'the renderer ran out of memory' },
      });
    } finally {
      source.close();
    }
  });

  it('EventSource: onmessage gets notifications, flat, unread ones first', async () => {
    const token = mintToken('carol');
    await notify(server.url, { user_id: 'carol', title: 'While you were away', message: 'Two comments' });
    const received: any[] = [];
    const source = new EventSource(`${server.url}/api/v1/realtime/sse/notifications?token=${token}`);
    source.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === 'notification') received.push(msg);
    };
    try {
      await waitFor(() => received.length === 1, 5000, 'the unread notification');
      await notify(server.url, { channel: 'general', notification_type: 'warning', title: 'Maintenance at 22:00', message: 'Save your work' });
      await waitFor(() => received.length === 2, 5000, 'the broadcast');
      expect(received.map((m) => [m.title, m.message, m.notification_type, m.channel])).toEqual([
        ['While you were away', 'Two comments', 'info', 'user_carol'],
        ['Maintenance at 22:00', 'Save your work', 'warning', 'general'],
      ]);
    } finally {
      source.close();
    }
  });
});
