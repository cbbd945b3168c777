import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { mintToken, startServer, type TestServer } from '../helpers/server.js';

describe('presentations and members API', () => {
  let server: TestServer;
  const call = async (method: string, path: string, user: string | null, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (user) headers.authorization = `Bearer ${mintToken(user)}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: await createTestDatabase('pres') });
  });
  afterAll(async () => server?.close());

  it('creates with the caller as owner, idempotently for the owner, 409 for anyone else', async () => {
    const created = await call('PUT', '/presentations/q3-review', 'olga', { title: 'Q3 review' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'q3-review',
      title: 'Q3 review',
      created_by: 'olga',
      role: 'owner',
      document: 'presentation:q3-review',
    });
    expect((await call('PUT', '/presentations/q3-review', 'olga')).status).toBe(200);
    const taken = await call('PUT', '/presentations/q3-review', 'mallory', {});
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ type: 'error', error_code: 'CONFLICT' });
    expect(taken.body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('lets the owner manage members and keeps at least one owner', async () => {
    await call('PUT', '/presentations/team', 'olga');
    expect((await call('PUT', '/presentations/team/members/eve', 'olga', { role: 'editor' })).status).toBe(200);
    expect((await call('PUT', '/presentations/team/members/vic', 'olga', { role: 'viewer' })).status).toBe(200);
    const members = await call('GET', '/presentations/team/members', 'vic');
    expect(members.status).toBe(200);
    expect(members.body.members.map((m: { user_id: string; role: string }) => [m.user_id, m.role])).toEqual([
      ['eve', 'editor'],
      ['olga', 'owner'],
      ['vic', 'viewer'],
    ]);
    // Only an owner manages members.
    expect((await call('PUT', '/presentations/team/members/vic', 'eve', { role: 'owner' })).body.error_code).toBe('PERMISSION_DENIED');
    // The last owner can neither be demoted nor removed.
    expect((await call('PUT', '/presentations/team/members/olga', 'olga', { role: 'viewer' })).status).toBe(409);
    expect((await call('DELETE', '/presentations/team/members/olga', 'olga')).status).toBe(409);
    // A member may leave; a stranger may not look.
    expect((await call('DELETE', '/presentations/team/members/vic', 'vic')).status).toBe(204);
    expect((await call('GET', '/presentations/team/members', 'vic')).status).toBe(403);
    expect((await call('GET', '/presentations/nope/members', 'olga')).status).toBe(404);
  });

  it('validates input and authentication with the contract error shape', async () => {
    const badRole = await call('PUT', '/presentations/team/members/x', 'olga', { role: 'god' });
    expect(badRole.status).toBe(400);
    expect(badRole.body.error_code).toBe('INVALID_MESSAGE');
    expect((await call('PUT', '/presentations/bad%20id', 'olga')).status).toBe(400);
    expect((await call('PUT', `/presentations/${'x'.repeat(200)}`, 'olga')).status).toBe(400);
    // Authentication comes before the body is read: a bad body from a stranger is a 401, not a schema error.
    const anonymousBadBody = await call('PUT', '/presentations/team/members/x', null, { role: 'god' });
    expect(anonymousBadBody.status).toBe(401);
    expect(anonymousBadBody.body.details).toBeUndefined();
    const noToken = await call('GET', '/presentations/team', null);
    expect(noToken.status).toBe(401);
    expect(noToken.body.error_code).toBe('AUTHENTICATION_FAILED');
    const garbage = await fetch(`${server.url}/api/v1/presentations/team`, { headers: { authorization: 'Bearer not.a.jwt' } });
    expect(garbage.status).toBe(401);
    const tooBig = await fetch(`${server.url}/api/v1/presentations/big`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${mintToken('olga')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(tooBig.status).toBe(413);
    expect((await tooBig.json()).error_code).toBe('PAYLOAD_TOO_LARGE');
    const notJson = await fetch(`${server.url}/api/v1/presentations/big`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${mintToken('olga')}`, 'content-type': 'application/json' },
      body: '{"title": ',
    });
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error_code).toBe('INVALID_MESSAGE');
    const missing = await call('GET', '/nothing-here', 'olga');
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('NOT_FOUND');
  });

  it('serves liveness, readiness and OpenAPI docs', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const ready = await fetch(`${server.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', checks: { store: 'ok', bus: 'disabled' } });
    const spec = await fetch(`${server.url}/docs/json`);
    expect(spec.status).toBe(200);
    const doc = (await spec.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/presentations/{id}', '/api/v1/presentations/{id}/members/{user_id}', '/health/ready']),
    );
  });
});
