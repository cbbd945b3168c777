/**
 * A JSON client in the document's Yjs awareness, so Yjs editors see it like any editor: an awareness client id of its
 * own, with the state the server stamps on real clients (`user` {id, name, color} from the token) plus `presence`
 * {slide_id, status} and `cursor` {anchor, head} (Yjs relative positions in the slide field, as editors publish
 * them). The state is renewed every 15 s (awareness drops a remote state after 30 s without one) and removed when
 * the client leaves. It reaches this instance's Yjs connections at once and other instances through `relay`
 * (./awareness-relay.ts).
 */
import { applyAwarenessUpdate, Awareness, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { colourFor } from '../../shared/colour.js';
import type { SlideField } from '../../shared/operations.js';
import type { PresenceStatus } from '../../shared/presence.js';
import { findSlide } from '../../shared/presentation.js';
import { yjsIndex } from './apply.js';

const RENEW_MS = 15_000;
/** The origin of these awareness changes (not a Hocuspocus connection: the stamping hook does not see them). */
export const JSON_AWARENESS_ORIGIN = { source: 'local', context: { documents: 'awareness' } } as const;

export class JsonAwareness {
  private readonly local = new Awareness(new Y.Doc());
  private readonly renewal: NodeJS.Timeout;
  private presence: { slide_id: string | null; status: PresenceStatus } = { slide_id: null, status: 'active' };
  private cursor: { anchor: unknown; head: unknown } | null = null;

  constructor(
    private readonly doc: Y.Doc & { awareness: Awareness },
    private readonly user: { id: string; name: string },
    private readonly relay: (update: Uint8Array) => void = () => {},
  ) {
    this.publish();
    this.renewal = setInterval(() => this.publish(), RENEW_MS);
    this.renewal.unref();
  }

  get clientId(): number {
    return this.local.clientID;
  }

  setPresence(change: { slide_id?: string | null; status?: PresenceStatus }): void {
    this.presence = { ...this.presence, ...change };
    this.publish();
  }

  /** A caret at plain-text `index` of a slide field; false when there is no such slide. Null slide: no caret. */
  setCursor(slideId: string | null, field: SlideField | null, index: number | null): boolean {
    if (slideId === null) {
      this.cursor = null;
    } else {
      const slide = findSlide(this.doc, slideId);
      if (!slide) return false;
      const text = field ? slide.get(field) : undefined;
      if (text instanceof Y.Text) {
        const at = yjsIndex(text, Math.min(index ?? 0, text.toString().length));
        const position = Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, at)) as unknown;
        this.cursor = { anchor: position, head: position };
      } else {
        this.cursor = null;
      }
      this.presence = { ...this.presence, slide_id: slideId };
    }
    this.publish();
    return true;
  }

  dispose(): void {
    clearInterval(this.renewal);
    removeAwarenessStates(this.local, [this.local.clientID], null);
    try {
      this.push();
    } catch {
      // The document is already gone (shutdown): so is its awareness.
    }
    this.local.destroy();
  }

  private publish(): void {
    this.local.setLocalState({
      user: { id: this.user.id, name: this.user.name, color: colourFor(this.user.id) },
      presence: this.presence,
      cursor: this.cursor,
    });
    this.push();
  }

  private push(): void {
    const update = encodeAwarenessUpdate(this.local, [this.local.clientID]);
    applyAwarenessUpdate(this.doc.awareness, update, JSON_AWARENESS_ORIGIN);
    this.relay(update);
  }
}
