/**
 * The demo page (development only): `GET /` and its assets under `/demo/`, bundled from client/demo with esbuild on
 * the first request and kept in memory. esbuild and client/ are loaded only then, so a server without them (the
 * production image) never touches them.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DemoFile } from '../../client/demo/build.js';

export function registerDemoPage(app: FastifyInstance): void {
  let bundle: Promise<Map<string, DemoFile>> | undefined;
  const files = (): Promise<Map<string, DemoFile>> => {
    bundle ??= import('../../client/demo/build.js')
      .then(({ bundleDemo }) => bundleDemo())
      .then((built) => new Map(built.map((file) => [file.path, file])))
      .catch((err: unknown) => {
        bundle = undefined; // try again on the next request
        throw err;
      });
    return bundle;
  };
  const serve = async (path: string, reply: FastifyReply) => {
    const file = (await files()).get(path);
    if (!file) {
      reply.callNotFound();
      return reply;
    }
    return reply.header('content-type', file.contentType).header('cache-control', 'no-cache').send(Buffer.from(file.contents));
  };

  app.get('/', { schema: { hide: true } }, (_request, reply) => serve('index.html', reply));
  app.get<{ Params: { file: string } }>('/demo/:file', { schema: { hide: true } }, (request, reply) => serve(`demo/${request.params.file}`, reply));
}
