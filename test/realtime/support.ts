/** Small helpers shared by the realtime suites: REST calls and endpoint URLs. */
import { mintToken } from '../helpers/server.js';

export const workerToken = () => mintToken('worker', { scope: 'jobs:write notifications:write' });
export const adminToken = () => mintToken('ops', { scope: 'admin' });

export interface CallResult {
  status: number;
  body: any;
  headers: Headers;
}

export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

export async function createJob(base: string, body: { job_id?: string; user_id: string; kind?: string; title?: string }) {
  const res = await call(base, 'POST', '/api/v1/jobs', { token: workerToken(), body: { kind: 'render', ...body } });
  if (res.status !== 201) throw new Error(`create job: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function postProgress(base: string, jobId: string, body: Record<string, unknown>) {
  return call(base, 'POST', `/api/v1/jobs/${jobId}/progress`, { token: workerToken(), body });
}

export async function notify(base: string, body: Record<string, unknown>) {
  return call(base, 'POST', '/api/v1/notifications', { token: workerToken(), body: { title: 't', message: 'm', ...body } });
}

export const wsBase = (base: string) => base.replace(/^http/, 'ws');
export const generationWs = (base: string, jobId: string, token: string) =>
  `${wsBase(base)}/api/v1/realtime/generation/${jobId}?token=${encodeURIComponent(token)}`;
export const notificationsWs = (base: string, token: string) => `${wsBase(base)}/api/v1/realtime/notifications?token=${encodeURIComponent(token)}`;
export const generationSse = (base: string, jobId: string, token: string) =>
  `${base}/api/v1/realtime/sse/generation/${jobId}?token=${encodeURIComponent(token)}`;
export const notificationsSse = (base: string, token: string) => `${base}/api/v1/realtime/sse/notifications?token=${encodeURIComponent(token)}`;
