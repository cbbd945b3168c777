/** Comment threads per slide (shared/presentation.ts schema): `comments` maps a slide id to its thread. */
import * as Y from 'yjs';
import { addComment, getComments } from '../../shared/presentation.js';
import { Emitter } from '../emitter.js';
import { randomId } from '../random-id.js';

export interface Comment {
  id: string;
  /** The author's user id (the server stamps it: a comment signed by anyone else is refused). */
  author: string;
  text: string;
  createdAt: string;
  resolved: boolean;
}

const MAX_COMMENT_LENGTH = 10_000;

function commentOf(map: Y.Map<unknown>): Comment | null {
  const { id, author, text, createdAt, resolved } = map.toJSON() as Record<string, unknown>;
  if (typeof id !== 'string' || typeof author !== 'string' || typeof text !== 'string' || typeof createdAt !== 'string') return null;
  return { id, author, text, createdAt, resolved: resolved === true };
}

export class Comments {
  private readonly events = new Emitter<{ change: void }>();
  private map: Y.Map<Y.Array<Y.Map<unknown>>>;
  private readonly onDeepChange = () => this.events.emit('change', undefined);

  constructor(
    private doc: Y.Doc,
    /** The user id comments are signed with (the signed-in user's: the server refuses any other). */
    private readonly author: () => string,
  ) {
    this.map = getComments(doc);
    this.map.observeDeep(this.onDeepChange);
  }

  /** Follows a replacement document (the session's resync): listeners stay, and hear the comments of the new one. */
  rebind(doc: Y.Doc): void {
    this.map.unobserveDeep(this.onDeepChange);
    this.doc = doc;
    this.map = getComments(doc);
    this.map.observeDeep(this.onDeepChange);
    this.onDeepChange();
  }

  list(slideId: string): Comment[] {
    const thread = this.map.get(slideId);
    if (!(thread instanceof Y.Array)) return [];
    return thread
      .toArray()
      .map((c) => (c instanceof Y.Map ? commentOf(c) : null))
      .filter((c): c is Comment => c !== null);
  }

  add(slideId: string, text: string): Comment {
    const trimmed = text.trim();
    if (trimmed.length === 0 || trimmed.length > MAX_COMMENT_LENGTH) throw new TypeError(`a comment has 1 to ${MAX_COMMENT_LENGTH} characters`);
    const map = addComment(this.doc, slideId, { id: `c-${randomId()}`, author: this.author(), text: trimmed });
    return commentOf(map) as Comment;
  }

  resolve(slideId: string, commentId: string, resolved = true): void {
    const comment = this.map
      .get(slideId)
      ?.toArray()
      .find((c) => c.get('id') === commentId);
    comment?.set('resolved', resolved);
  }

  onChange(listener: () => void): () => void {
    return this.events.on('change', listener);
  }

  dispose(): void {
    this.map.unobserveDeep(this.onDeepChange);
    this.events.clear();
  }
}
