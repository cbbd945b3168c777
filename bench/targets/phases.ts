/** Cold-load phase timing for Hocuspocus-based targets: hooks that run first and last around load and first sync. */
import type { Extension, Hocuspocus } from '@hocuspocus/server';
import { messageYjsSyncStep1 } from 'y-protocols/sync';
import type { PhaseClock } from './runtime.js';

/**
 * `load`: onCreateDocument → afterLoadDocument (fetch + apply + the other extensions' load hooks);
 * `encode`: the first SyncStep1 a connection sends → after it was handled (Hocuspocus encodes the SyncStep2 reply
 * with encodeStateAsUpdate and hands it to the socket).
 */
export function instrumentPhases(hocuspocus: Hocuspocus, clock: PhaseClock): void {
  const first: Extension = {
    extensionName: 'bench-phases-first',
    async onCreateDocument() {
      clock.start('load');
    },
    async beforeSync({ type }) {
      if (type === messageYjsSyncStep1) clock.start('encode');
    },
  };
  const last: Extension = {
    extensionName: 'bench-phases-last',
    async afterLoadDocument() {
      clock.end('load');
    },
    async afterHandleMessage() {
      clock.end('encode');
    },
  };
  hocuspocus.configuration.extensions.unshift(first);
  hocuspocus.configuration.extensions.push(last);
}
