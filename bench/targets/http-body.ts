import type { IncomingMessage } from 'node:http';

/** The request body as one string. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `/publish/{channel}` → channel; `/sub/{channel}` → channel. */
export function channelOf(url: string | undefined, prefix: string): string | null {
  if (!url?.startsWith(prefix)) return null;
  const rest = url.slice(prefix.length).split('?')[0] ?? '';
  return /^[A-Za-z0-9_.-]{1,100}$/.test(rest) ? rest : null;
}
