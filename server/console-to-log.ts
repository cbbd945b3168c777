/**
 * Hocuspocus 4.7 reports some failures only with console.error / console.warn ("[onAuthenticate] not a member of
 * this presentation", "closing connection … because of exception …", "Caught error during storeDocumentHooks …").
 * In the server process those become structured log lines like every other (`source: "console"`), an Error argument
 * as `err`. Hook refusals that Deckhand's own extensions already logged (authentication, connect) are echoed at
 * debug level, so that a refused token is one info line, not an error; so is extension-redis' routine "another
 * instance is storing this document" (its store lock, a SkipFurtherHooksError: the other instance compacts).
 */
import { format } from 'node:util';
import type { FastifyBaseLogger } from 'fastify';

/** Hocuspocus' echo of a hook that stopped the chain on purpose (CollabAuth logs its refusals itself). */
const ROUTINE_ECHO = /^\[(onAuthenticate|onConnect|connected)\] |^\[onStoreDocument\] Another instance is already storing this document$/;

export function routeConsoleToLogger(logger: FastifyBaseLogger): () => void {
  const original = { error: console.error, warn: console.warn };
  const forward =
    (level: 'error' | 'warn') =>
    (...args: unknown[]) => {
      const err = args.find((arg): arg is Error => arg instanceof Error);
      const rest = args.filter((arg) => arg !== err);
      const msg = rest.length > 0 ? format(...rest) : (err?.message ?? '');
      const fields = err ? { source: 'console', err } : { source: 'console' };
      if (level === 'error' && ROUTINE_ECHO.test(msg)) logger.debug(fields, msg);
      else logger[level](fields, msg);
    };
  console.error = forward('error');
  console.warn = forward('warn');
  return () => {
    console.error = original.error;
    console.warn = original.warn;
  };
}
