/**
 * Finds the `@user_id` mentions of new comments, as a Hocuspocus extension: comments are written by Yjs clients into
 * the document (`comments` → slide id → thread of comment maps), so the server watches each loaded document's
 * `comments` subtree and reports every comment map that a transaction adds.
 *
 * Once per comment: only transactions from this instance's own client connections count (the instance that stored
 * the edit). The same comment relayed to other instances (origin `redis`), a document's load and server-side edits
 * (a version restore) are ignored, and Yjs integrates an item once, so a client that sends its update again does not
 * count twice. The author is the connection's authenticated user, not the comment's `author` field.
 */
import { isTransactionOrigin, type afterLoadDocumentPayload, type afterUnloadDocumentPayload, type Extension } from '@hocuspocus/server';
import type { FastifyBaseLogger } from 'fastify';
import * as Y from 'yjs';
import { presentationIdOf } from '../../shared/presentation.js';
import { isCollabContext } from '../collab/context.js';
import { mentionedUserIds } from './mentions.js';

export interface NewComment {
  presentationId: string;
  slideId: string;
  commentId: string | null;
  text: string;
  authorId: string;
  authorName: string;
  /** The `@user_id`s in the text (not checked against the members yet). */
  mentioned: string[];
}

export class CommentMentions implements Extension {
  extensionName = 'deckhand-comment-mentions';
  private readonly unobserve = new Map<string, () => void>();
  private listener: ((comment: NewComment) => void) | undefined;

  constructor(private readonly logger: FastifyBaseLogger) {}

  /** Where new comments that mention someone go (one listener). */
  onMention(listener: (comment: NewComment) => void): void {
    this.listener = listener;
  }

  async afterLoadDocument({ documentName, document }: afterLoadDocumentPayload): Promise<void> {
    const presentationId = presentationIdOf(documentName);
    if (!presentationId || this.unobserve.has(documentName)) return;
    const comments = document.getMap('comments');
    const observer = (events: Y.YEvent<Y.AbstractType<unknown>>[], transaction: Y.Transaction) => {
      try {
        this.inspect(presentationId, comments, events, transaction);
      } catch (err) {
        this.logger.warn({ err, presentationId }, 'could not inspect new comments');
      }
    };
    comments.observeDeep(observer);
    this.unobserve.set(documentName, () => comments.unobserveDeep(observer));
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.unobserve.get(documentName)?.();
    this.unobserve.delete(documentName);
  }

  private inspect(presentationId: string, comments: Y.Map<unknown>, events: Y.YEvent<Y.AbstractType<unknown>>[], transaction: Y.Transaction): void {
    const origin: unknown = transaction.origin;
    if (!this.listener || !isTransactionOrigin(origin) || origin.source !== 'connection') return;
    const context = origin.connection.context as unknown;
    if (!isCollabContext(context)) return;
    for (const { slideId, comment } of addedComments(comments, events)) {
      const text = comment.get('text');
      if (typeof text !== 'string') continue;
      const mentioned = mentionedUserIds(text);
      if (mentioned.length === 0) continue;
      const id = comment.get('id');
      this.listener({
        presentationId,
        slideId,
        commentId: typeof id === 'string' ? id : null,
        text,
        authorId: context.principal.userId,
        authorName: context.principal.name,
        mentioned,
      });
    }
  }
}

/** The comment maps a transaction added: in a new (or replaced) thread, or appended to an existing one. */
function* addedComments(
  comments: Y.Map<unknown>,
  events: Y.YEvent<Y.AbstractType<unknown>>[],
): Generator<{ slideId: string; comment: Y.Map<unknown> }> {
  for (const event of events) {
    if (event.target === comments) {
      for (const [slideId, change] of (event as Y.YMapEvent<unknown>).changes.keys) {
        if (change.action === 'delete') continue;
        const thread = comments.get(slideId);
        if (thread instanceof Y.Array) for (const comment of thread.toArray()) if (comment instanceof Y.Map) yield { slideId, comment };
      }
    } else if (event.target instanceof Y.Array && event.target.parent === comments) {
      const slideId = event.target._item?.parentSub;
      if (typeof slideId !== 'string') continue;
      for (const item of event.changes.added) {
        for (const content of item.content.getContent()) if (content instanceof Y.Map) yield { slideId, comment: content };
      }
    }
  }
}
