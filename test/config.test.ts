import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../server/config.js';
import { ROOT } from './helpers/server.js';

describe('configuration', () => {
  it('has documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8000,
      host: '0.0.0.0',
      dataDir: './data',
      lockTtlMs: 300_000,
      shutdownTimeoutMs: 10_000,
      autoCreatePresentations: true,
    });
    expect(c.limits).toMatchObject({
      maxConnectionsPerUser: 5,
      wsMaxFrameBytes: 1048576,
      collabMaxFrameBytes: 8388608,
      collabMaxInflightBytes: 32 * 1024 * 1024,
    });
    expect(c.lockLimits).toEqual({ perUser: 20, perDocument: 200 });
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).autoCreatePresentations).toBe(false);
  });

  it('AUTO_NOTIFICATIONS: all by default, none, or a list of kinds; anything else is refused', () => {
    expect(loadConfig({}).autoNotifications).toEqual({ job: true, share: true, mention: true });
    expect(loadConfig({ AUTO_NOTIFICATIONS: 'none' }).autoNotifications).toEqual({ job: false, share: false, mention: false });
    expect(loadConfig({ AUTO_NOTIFICATIONS: 'job, mention' }).autoNotifications).toEqual({ job: true, share: false, mention: true });
    expect(loadConfig({ AUTO_NOTIFICATIONS: 'share' }).autoNotifications).toEqual({ job: false, share: true, mention: false });
    for (const bad of ['jobs', 'job,,share', 'all,none', 'job;share', 'everything']) {
      expect(() => loadConfig({ AUTO_NOTIFICATIONS: bad }), bad).toThrow(/AUTO_NOTIFICATIONS/);
    }
    expect(loadConfig({}).wsPingIntervalMs).toBe(30_000);
    expect(loadConfig({ WS_PING_INTERVAL_MS: '0' }).wsPingIntervalMs).toBe(0);
    expect(() => loadConfig({ WS_PING_INTERVAL_MS: '-5' })).toThrow(/WS_PING_INTERVAL_MS/);
  });

  it('names every bad variable, and never echoes a JWT value', () => {
    try {
      loadConfig({ PORT: '70000', LOG_LEVEL: 'loud', AUTO_CREATE_PRESENTATIONS: 'sometimes', JWT_SECRET: 'short', REDIS_URL: 'http://x' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const message = (err as Error).message;
      for (const key of ['PORT', 'LOG_LEVEL', 'AUTO_CREATE_PRESENTATIONS', 'JWT_SECRET', 'REDIS_URL']) expect(message).toContain(key);
      expect(message).not.toContain('short');
    }
  });

  it('checks the lock limits and the bytes in flight against each other', () => {
    expect(() => loadConfig({ LOCK_MAX_PER_USER: '50', LOCK_MAX_PER_DOCUMENT: '10' })).toThrow(
      /LOCK_MAX_PER_USER \(50\) must not be larger than LOCK_MAX_PER_DOCUMENT \(10\)/,
    );
    expect(() => loadConfig({ LOCK_MAX_PER_USER: '0' })).toThrow(/LOCK_MAX_PER_USER/);
    expect(() => loadConfig({ COLLAB_MAX_FRAME_BYTES: String(4 * 1024 * 1024), COLLAB_MAX_INFLIGHT_BYTES: String(1024 * 1024) })).toThrow(
      /COLLAB_MAX_INFLIGHT_BYTES/,
    );
    expect(loadConfig({ COLLAB_MAX_FRAME_BYTES: String(64 * 1024 * 1024) }).limits.collabMaxInflightBytes).toBe(128 * 1024 * 1024);
    expect(loadConfig({ LOCK_MAX_PER_USER: '3', LOCK_MAX_PER_DOCUMENT: '3' }).lockLimits).toEqual({ perUser: 3, perDocument: 3 });
  });

  it('COLLAB_CLIENT_ID_CLAIMS_*: 200 new client ids per user per document per hour by default, bounded', () => {
    expect(loadConfig({}).clientIdClaims).toEqual({ max: 200, windowMs: 3_600_000 });
    expect(loadConfig({ COLLAB_CLIENT_ID_CLAIMS_MAX: '5', COLLAB_CLIENT_ID_CLAIMS_WINDOW_MS: '60000' }).clientIdClaims).toEqual({
      max: 5,
      windowMs: 60_000,
    });
    for (const [key, bad] of [
      ['COLLAB_CLIENT_ID_CLAIMS_MAX', '0'],
      ['COLLAB_CLIENT_ID_CLAIMS_MAX', 'many'],
      ['COLLAB_CLIENT_ID_CLAIMS_WINDOW_MS', '999'],
      ['COLLAB_CLIENT_ID_CLAIMS_WINDOW_MS', String(31 * 86_400_000)],
    ] as const) {
      expect(() => loadConfig({ [key]: bad }), `${key}=${bad}`).toThrow(new RegExp(key));
    }
  });

  it('refuses to start in production without a JWT key', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'server/main.ts')], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production', JWT_SECRET: '', JWT_PUBLIC_KEY: '', PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('NODE_ENV=production requires JWT_SECRET');
  });

  it('npm run token mints a token for the dev secret in DATA_DIR', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'deckhand-token-'));
    try {
      const out = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'server/cli/mint-token.ts'), 'alice', '--scope', 'jobs:write'], {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR: dataDir, JWT_SECRET: '', NODE_ENV: 'development' },
        encoding: 'utf8',
      }).trim();
      const secret = execFileSync('cat', [join(dataDir, '.dev-jwt-secret')], { encoding: 'utf8' }).trim();
      const claims = jwt.verify(out, secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
      expect(claims).toMatchObject({ sub: 'alice', name: 'alice', scope: 'jobs:write' });
      expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
