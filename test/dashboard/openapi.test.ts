/** The OpenAPI document at /docs shows every dashboard route with its parameters, body and responses. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { call } from '../realtime/support.js';

describe('OpenAPI for the dashboard routes', () => {
  let server: TestServer;
  let spec: any;

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('dashdocs') });
    spec = (await call(server.url, 'GET', '/docs/json')).body;
  });
  afterAll(async () => server?.close());

  const operation = (path: string, method: string) => {
    const op = spec.paths[path]?.[method];
    expect(op, `${method} ${path}`).toBeDefined();
    expect(op.summary, `${method} ${path}`).toBeTruthy();
    expect(op.security ?? spec.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
    return op;
  };
  const params = (op: any, where: string) =>
    op.parameters
      .filter((p: any) => p.in === where)
      .map((p: any) => p.name)
      .sort();
  const jsonOf = (op: any, status: string) => op.responses[status].content['application/json'].schema;

  it('GET /jobs: filters and paging in, a page of jobs out', () => {
    const op = operation('/api/v1/jobs', 'get');
    expect(params(op, 'query')).toEqual(['cursor', 'kind', 'limit', 'status', 'user_id']);
    expect(Object.keys(jsonOf(op, '200').properties)).toEqual(['jobs', 'next_cursor']);
    expect(jsonOf(op, '200').properties.jobs.items.properties.status).toBeDefined();
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
  });

  it('POST /jobs/{id}/cancel: an optional reason in, the job out, 409 documented', () => {
    const op = operation('/api/v1/jobs/{id}/cancel', 'post');
    expect(params(op, 'path')).toEqual(['id']);
    expect(op.requestBody.content['application/json'].schema.properties.reason).toBeDefined();
    expect(jsonOf(op, '200').properties.job_id).toBeDefined();
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '403', '404', '409']));
  });

  it('GET /presentations and DELETE /presentations/{id}', () => {
    const list = operation('/api/v1/presentations', 'get');
    expect(params(list, 'query')).toEqual(['cursor', 'limit']);
    expect(Object.keys(jsonOf(list, '200').properties.presentations.items.properties).sort()).toEqual([
      'created_at',
      'id',
      'role',
      'title',
      'updated_at',
    ]);
    const remove = operation('/api/v1/presentations/{id}', 'delete');
    expect(Object.keys(remove.responses)).toEqual(expect.arrayContaining(['204', '400', '403', '404']));
  });

  it('DELETE /notifications/{id} and POST /notifications/read-all', () => {
    const remove = operation('/api/v1/notifications/{id}', 'delete');
    expect(params(remove, 'path')).toEqual(['id']);
    expect(Object.keys(remove.responses)).toEqual(expect.arrayContaining(['204', '400', '403', '404']));
    const readAll = operation('/api/v1/notifications/read-all', 'post');
    expect(jsonOf(readAll, '200').properties.updated.type).toBe('integer');
  });

  it('GET /realtime/stats lists the seed’s fields', () => {
    const stats = jsonOf(operation('/api/v1/realtime/stats', 'get'), '200');
    for (const field of ['active_users', 'job_subscribers', 'channels', 'notification_history_size', 'total_edit_operations']) {
      expect(stats.properties[field], field).toMatchObject({ type: 'integer' });
      expect(stats.required).toContain(field);
    }
  });
});
