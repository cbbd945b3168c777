/**
 * Bundles the demo page with esbuild: `index.html`, `demo/app.js` and `demo/app.css`, all local (no CDN).
 * The server calls `bundleDemo()` on the first request for the page (development only); `npm run build:demo` writes
 * the same files to client/demo/dist/ to serve statically (open `index.html?server=http://localhost:8000`).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

export interface DemoFile {
  /** Relative to the page: `index.html`, `demo/app.js`, `demo/app.css`. */
  path: string;
  contentType: string;
  contents: Uint8Array;
}

const here = dirname(fileURLToPath(import.meta.url));
const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

export async function bundleDemo(): Promise<DemoFile[]> {
  const outdir = join(here, 'dist', 'demo');
  const result = await esbuild.build({
    entryPoints: [
      { in: join(here, 'main.ts'), out: 'app' },
      { in: join(here, 'styles.css'), out: 'app' },
    ],
    outdir,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    // The SDK from its sources, as in the tests: `development` picks the .ts targets of package.json `imports`
    // (`browser` picks the browser ones). Naming a condition drops esbuild's default `module`, so it is listed again.
    conditions: ['development', 'module'],
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const assets = result.outputFiles.map((file) => {
    const name = file.path.slice(outdir.length + 1);
    return {
      path: `demo/${name}`,
      contentType: CONTENT_TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream',
      contents: file.contents,
    };
  });
  const html = await readFile(join(here, 'index.html'));
  return [{ path: 'index.html', contentType: CONTENT_TYPES['.html']!, contents: html }, ...assets];
}

async function writeDist(): Promise<void> {
  const dist = join(here, 'dist');
  for (const file of await bundleDemo()) {
    const target = join(dist, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.contents);
  }
  console.log(`demo written to ${dist}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await writeDist();
