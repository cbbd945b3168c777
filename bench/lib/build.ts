/**
 * Transpiles server/, shared/ and bench/ to plain JavaScript in bench/.cache/dist (file by file, like tsc would;
 * esbuild, no bundling) so that targets and generators start with plain `node`, without a TypeScript loader: on a
 * busy 2-core machine a loader costs seconds per process start, and the benchmark starts about thirty processes.
 * Non-TypeScript files the server reads next to its modules (SQL migrations) are copied along.
 */
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) tsFiles(path, out);
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

export async function buildDist(root: string): Promise<string> {
  const outdir = join(root, 'bench', '.cache', 'dist');
  rmSync(outdir, { recursive: true, force: true });
  const entryPoints = ['server', 'shared', 'bench'].flatMap((d) => tsFiles(join(root, d)));
  await build({
    entryPoints,
    outdir,
    outbase: root,
    bundle: false,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    logLevel: 'error',
  });
  cpSync(join(root, 'server', 'store', 'migrations'), join(outdir, 'server', 'store', 'migrations'), { recursive: true });
  return outdir;
}

export function distPath(dist: string, root: string, file: string): string {
  return join(dist, relative(root, file)).replace(/\.ts$/, '.js');
}
