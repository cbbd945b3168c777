/**
 * Presence on one presentation, over Yjs awareness (shared/presence.ts): what this client publishes (its slide,
 * status and cursor) and who else is here. `user` ({id, name, color}) in every remote state is stamped by the
 * server from the token, so names and colours shown are the real ones.
 *
 * Cursors use the awareness `cursor` field as y-prosemirror / TipTap's CollaborationCaret do: `{anchor, head}` as
 * Yjs relative positions, so a rich-text editor's carets and `setCursor` on a Y.Text coexist.
 */
import type { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { normalizeStatus, type AwarenessPresence, type PresenceStatus } from '../../shared/presence.js';
import { Emitter } from '../emitter.js';

export interface PeerUser {
  id: string;
  name: string;
  color: string;
}

export interface Peer {
  /** The awareness client id (one per tab or device). */
  clientId: number;
  user: PeerUser;
  slideId: string | null;
  status: PresenceStatus;
  cursor: { anchor: Y.RelativePosition; head: Y.RelativePosition } | null;
}

const isString = (value: unknown): value is string => typeof value === 'string';

function userOf(value: unknown): PeerUser | null {
  const user = value as Partial<PeerUser> | null | undefined;
  return user && isString(user.id) && isString(user.name) && isString(user.color) ? { id: user.id, name: user.name, color: user.color } : null;
}

function cursorOf(value: unknown): Peer['cursor'] {
  const cursor = value as { anchor?: unknown; head?: unknown } | null | undefined;
  if (typeof cursor?.anchor !== 'object' || cursor.anchor === null || typeof cursor.head !== 'object' || cursor.head === null) return null;
  try {
    return { anchor: Y.createRelativePositionFromJSON(cursor.anchor), head: Y.createRelativePositionFromJSON(cursor.head) };
  } catch {
    return null;
  }
}

export class Presence {
  private readonly events = new Emitter<{ change: Peer[] }>();
  private readonly onAwarenessChange = () => this.events.emit('change', this.others());

  constructor(private readonly awareness: Awareness) {
    awareness.on('change', this.onAwarenessChange);
  }

  /** The slide this user is on (shown to others and in `GET /presentations/{id}/presence`). */
  setSlide(slideId: string | null): void {
    this.update({ slide_id: slideId });
  }

  setStatus(status: PresenceStatus): void {
    this.update({ status });
  }

  /** Publishes a caret or selection in a Y.Text (`head` defaults to `anchor`); null clears it. */
  setCursor(text: Y.Text | null, anchor = 0, head = anchor): void {
    if (!text) {
      this.awareness.setLocalStateField('cursor', null);
      return;
    }
    this.awareness.setLocalStateField('cursor', {
      anchor: Y.createRelativePositionFromTypeIndex(text, anchor),
      head: Y.createRelativePositionFromTypeIndex(text, head),
    });
  }

  /** Everyone else connected to the presentation, one entry per tab or device, with a server-stamped user. */
  others(): Peer[] {
    const peers: Peer[] = [];
    for (const [clientId, state] of this.awareness.getStates()) {
      if (clientId === this.awareness.clientID) continue;
      const user = userOf(state.user);
      if (!user) continue;
      const presence = (state.presence ?? {}) as AwarenessPresence;
      peers.push({
        clientId,
        user,
        slideId: isString(presence.slide_id) ? presence.slide_id : null,
        status: normalizeStatus(presence.status),
        cursor: cursorOf(state.cursor),
      });
    }
    return peers;
  }

  /** Where a peer's cursor is in `text` (indexes), or null when it is elsewhere. */
  cursorIn(peer: Peer, text: Y.Text): { anchor: number; head: number } | null {
    const doc = text.doc;
    if (!peer.cursor || !doc) return null;
    const anchor = Y.createAbsolutePositionFromRelativePosition(peer.cursor.anchor, doc);
    const head = Y.createAbsolutePositionFromRelativePosition(peer.cursor.head, doc);
    if (!anchor || !head || anchor.type !== text || head.type !== text) return null;
    return { anchor: anchor.index, head: head.index };
  }

  onChange(listener: (peers: Peer[]) => void): () => void {
    return this.events.on('change', listener);
  }

  dispose(): void {
    this.awareness.off('change', this.onAwarenessChange);
    this.events.clear();
  }

  private update(change: AwarenessPresence): void {
    const current = (this.awareness.getLocalState()?.presence ?? {}) as AwarenessPresence;
    this.awareness.setLocalStateField('presence', { slide_id: null, status: 'active', ...current, ...change });
  }
}
