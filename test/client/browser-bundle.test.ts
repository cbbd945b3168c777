/**
 * The SDK in a browser bundle: package.json `imports` give bundlers (the `browser` condition) a default WebSocket
 * without `ws`, while Node gets `ws` when it has no global WebSocket. Bundled with esbuild as the demo is.
 */
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/server.js';

async function bundledInputs(platform: 'browser' | 'node'): Promise<string[]> {
  const result = await esbuild.build({
    entryPoints: [join(ROOT, 'client', 'index.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform,
    conditions: ['development', 'module'],
    metafile: true,
    absWorkingDir: ROOT,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

describe('SDK bundles', () => {
  it('a browser bundle takes the global WebSocket and contains nothing of ws', async () => {
    const inputs = await bundledInputs('browser');
    expect(inputs).toContain('client/default-websocket/browser.ts');
    expect(inputs.filter((path) => path.includes('node_modules/ws/') || path.includes('default-websocket/node'))).toEqual([]);
  });

  it('a Node bundle falls back to ws', async () => {
    const inputs = await bundledInputs('node');
    expect(inputs).toContain('client/default-websocket/node.ts');
    expect(inputs.some((path) => path.startsWith('node_modules/ws/'))).toBe(true);
  });
});
