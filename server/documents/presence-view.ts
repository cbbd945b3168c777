/**
 * Presence for JSON clients, read from the document's Yjs awareness (which holds every Yjs editor, of this instance
 * and, through the Redis extension, of the others, and every JSON client, see ./json-awareness.ts). Awareness has
 * one state per client (tab); JSON clients see users: `user_joined` when a user's first client appears, `user_left`
 * when its last one goes, `presence_update` when its slide or status changes, `cursor_update` when a caret moves
 * (a caret in a slide's title, body or notes as a plain-text index; elsewhere in a slide as the slide alone).
 */
import type { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { CollaborationUser } from '../../shared/collaboration-messages.js';
import { SLIDE_FIELDS, type SlideField } from '../../shared/operations.js';
import { normalizeStatus } from '../../shared/presence.js';
import { isSlideId } from '../../shared/locks.js';
import { getSlides } from '../../shared/presentation.js';
import type { SharedType } from './shared-type.js';

export interface CursorPlace {
  slide_id: string | null;
  field: SlideField | null;
  index: number | null;
}

interface ClientPresence {
  user: CollaborationUser;
  cursor: string;
}

export type PresenceChange =
  | { kind: 'user_joined' | 'presence_update'; user: CollaborationUser }
  | { kind: 'user_left'; userId: string }
  | { kind: 'cursor_update'; userId: string; cursor: CursorPlace };

interface AwarenessState {
  user?: { id?: unknown; name?: unknown; color?: unknown };
  presence?: { slide_id?: unknown; status?: unknown };
  cursor?: { head?: unknown } | null;
}

/** The plain-text index of a Yjs index of `text` (embeds take a Yjs position and no plain one). */
export function plainIndex(text: Y.Text, yjsIndex: number): number {
  if (text.length === text.toString().length) return yjsIndex;
  let plain = 0;
  let yjs = 0;
  for (const part of text.toDelta() as { insert?: unknown }[]) {
    const length = typeof part.insert === 'string' ? part.insert.length : 1;
    if (yjsIndex <= yjs + length) return plain + (typeof part.insert === 'string' ? yjsIndex - yjs : 0);
    yjs += length;
    if (typeof part.insert === 'string') plain += part.insert.length;
  }
  return plain;
}

const NO_CURSOR: CursorPlace = { slide_id: null, field: null, index: null };

export class PresenceView {
  private readonly clients = new Map<number, ClientPresence>();
  /** user id → awareness client ids */
  private readonly byUser = new Map<string, Set<number>>();
  private readonly users = new Map<string, CollaborationUser>();
  private readonly onChange = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }) =>
    this.emit(this.apply([...added, ...updated], removed));

  constructor(
    private readonly doc: Y.Doc,
    private readonly awareness: Awareness,
    private readonly emit: (changes: PresenceChange[]) => void,
  ) {
    this.apply([...awareness.getStates().keys()], []);
    awareness.on('change', this.onChange);
  }

  /** Everyone present now, one entry per user. */
  list(): CollaborationUser[] {
    return [...this.users.values()].sort((a, b) => a.user_id.localeCompare(b.user_id));
  }

  dispose(): void {
    this.awareness.off('change', this.onChange);
  }

  /** Where a caret (an awareness `cursor.head` relative position) is, for JSON clients. */
  cursorOf(state: AwarenessState): CursorPlace {
    const head = state.cursor?.head;
    if (typeof head !== 'object' || head === null) return NO_CURSOR;
    let absolute: Y.AbsolutePosition | null;
    try {
      absolute = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(head), this.doc);
    } catch {
      return NO_CURSOR;
    }
    if (!absolute) return NO_CURSOR;
    // Walk up to the slide map; remember the slide's key on the way (the field).
    let type: SharedType = absolute.type;
    let key: string | null = null;
    const slides = getSlides(this.doc) as SharedType;
    while (type._item && type._item.parent !== slides) {
      key = type._item.parentSub;
      type = type._item.parent as SharedType;
    }
    if (!type._item || !(type instanceof Y.Map)) return NO_CURSOR;
    const slideId = type.get('id');
    if (typeof slideId !== 'string') return NO_CURSOR;
    const field =
      (SLIDE_FIELDS as readonly unknown[]).includes(key) && absolute.type instanceof Y.Text && absolute.type === type.get(key as string)
        ? (key as SlideField)
        : null;
    return { slide_id: slideId, field, index: field ? plainIndex(absolute.type as Y.Text, absolute.index) : null };
  }

  private apply(changed: number[], removed: number[]): PresenceChange[] {
    const changes: PresenceChange[] = [];
    const states = this.awareness.getStates();
    for (const clientId of changed) {
      const state = states.get(clientId) as AwarenessState | undefined;
      const user = state?.user;
      if (!state || typeof user?.id !== 'string') {
        this.drop(clientId, changes);
        continue;
      }
      const slideId = isSlideId(state.presence?.slide_id) ? (state.presence?.slide_id as string) : null;
      const next: CollaborationUser = {
        user_id: user.id,
        user_name: typeof user.name === 'string' ? user.name : user.id,
        color: typeof user.color === 'string' ? user.color : '#888888',
        slide_id: slideId,
        status: normalizeStatus(state.presence?.status),
      };
      const cursor = this.cursorOf(state);
      const cursorKey = JSON.stringify(cursor);
      const previous = this.clients.get(clientId);
      if (previous && previous.user.user_id !== next.user_id) this.drop(clientId, changes);
      const known = this.byUser.get(next.user_id);
      const shown = this.users.get(next.user_id);
      this.clients.set(clientId, { user: next, cursor: cursorKey });
      if (!known) {
        this.byUser.set(next.user_id, new Set([clientId]));
        this.users.set(next.user_id, next);
        changes.push({ kind: 'user_joined', user: next });
      } else {
        known.add(clientId);
        if (shown && (shown.slide_id !== next.slide_id || shown.status !== next.status || shown.user_name !== next.user_name)) {
          this.users.set(next.user_id, next);
          changes.push({ kind: 'presence_update', user: next });
        }
      }
      if (cursorKey !== (previous?.cursor ?? JSON.stringify(NO_CURSOR))) changes.push({ kind: 'cursor_update', userId: next.user_id, cursor });
    }
    for (const clientId of removed) this.drop(clientId, changes);
    return changes;
  }

  private drop(clientId: number, changes: PresenceChange[]): void {
    const previous = this.clients.get(clientId);
    if (!previous) return;
    this.clients.delete(clientId);
    const userId = previous.user.user_id;
    const remaining = this.byUser.get(userId);
    remaining?.delete(clientId);
    if (remaining && remaining.size > 0) return;
    this.byUser.delete(userId);
    this.users.delete(userId);
    changes.push({ kind: 'user_left', userId });
  }
}
