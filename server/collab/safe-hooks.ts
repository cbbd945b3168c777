/**
 * Hocuspocus does not await (or catch) some hooks: onChange, onAwarenessUpdate and beforeBroadcastStateless run as
 * fire-and-forget promise chains, so a throw in any extension's handler is an unhandled rejection that can kill the
 * process. This wraps those handlers of every extension (ours and third-party) so an error is logged, never thrown.
 */
import type { Extension } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';

const UNAWAITED_HOOKS = ['onChange', 'onAwarenessUpdate', 'beforeBroadcastStateless'] as const;

export function withSafeUnawaitedHooks<T extends Extension>(extension: T, logger: FastifyBaseLogger): T {
  for (const hook of UNAWAITED_HOOKS) {
    const original = extension[hook] as ((payload: unknown) => Promise<unknown>) | undefined;
    if (typeof original !== 'function') continue;
    const name = extension.extensionName ?? extension.constructor?.name ?? 'extension';
    (extension as Record<string, unknown>)[hook] = async (payload: unknown) => {
      try {
        return await original.call(extension, payload);
      } catch (err) {
        logger.error({ err, hook, extension: name }, 'collaboration hook failed');
        return undefined;
      }
    };
  }
  return extension;
}
