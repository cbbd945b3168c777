/** Cold-load phase timing for Hocuspocus-based targets: hooks that run first and last around load and first sync. */
import type { Extension, Hocuspocus } from '@hocuspocus/server';
import * as decoding from 'lib0/decoding';
import { messageYjsSyncStep1 } from 'y-protocols/sync';
import type { PhaseClock } from './runtime.js';

/** True for a Sync frame carrying a SyncStep1. */
function isSyncStep1(frame: Uint8Array): boolean {
  try {
    const decoder = decoding.createDecoder(frame);
    decoding.readVarString(decoder);
    return decoding.readVarUint(decoder) === 0 && decoding.readVarUint(decoder) === messageYjsSyncStep1;
  } catch {
    return false;
  }
}

/**
 * `load`: onCreateDocument → afterLoadDocument (fetch + apply + the other extensions' load hooks);
 * `encode`: the first SyncStep1 a connection sends, from before any extension handles it (Deckhand may answer it in
 * beforeHandleMessage, from the stored snapshot) → after it was handled (Hocuspocus encodes the SyncStep2 reply with
 * encodeStateAsUpdate and hands it to the socket).
 */
export function instrumentPhases(hocuspocus: Hocuspocus, clock: PhaseClock): void {
  const first: Extension = {
    extensionName: 'bench-phases-first',
    async onCreateDocument() {
      clock.start('load');
    },
    async beforeHandleMessage({ update }) {
      if (isSyncStep1(update)) clock.start('encode');
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
