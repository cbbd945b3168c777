/**
 * Chat over REST: post, page through history, edit, delete (a tombstone stays), unread count, read marks, and the
 * read and typing signals for clients without the notifications socket (SSE). Live events: channel
 * `chat.{presentation_id}` on the notifications socket and SSE stream.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { CHAT_HISTORY_DEFAULT_LIMIT } from '../../shared/chat.js';
import type { TokenVerifier } from '../auth/jwt.js';
import { principalOf, requireUser } from '../http/auth.js';
import { ErrorResponseSchema } from '../http/errors.js';
import type { ChatService } from './chat-service.js';
import {
  ChatMessageSchema,
  EditMessageBody,
  HistoryQuery,
  HistoryResponse,
  MessageParams,
  PostMessageBody,
  PresentationParams,
  ReadBody,
  ReadMarkSchema,
  ReadsResponse,
  TypingBody,
  UnreadResponse,
} from './schemas.js';

const errors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  409: ErrorResponseSchema,
  429: ErrorResponseSchema,
};
const tags = ['chat'];

type InPresentation = { Params: Static<typeof PresentationParams> };
type OnMessage = { Params: Static<typeof MessageParams> };

export function registerChatRoutes(app: FastifyInstance, verifier: TokenVerifier, chat: ChatService): void {
  const onRequest = requireUser(verifier);

  app.post<InPresentation & { Body: Static<typeof PostMessageBody> }>(
    '/api/v1/presentations/:id/chat',
    {
      onRequest,
      schema: {
        tags,
        summary: 'Post a chat message (commenters and up); published as chat_message on chat.{id}',
        params: PresentationParams,
        body: PostMessageBody,
        response: { 201: ChatMessageSchema, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await chat.post(principalOf(request), request.params.id, request.body)),
  );

  app.get<InPresentation & { Querystring: Static<typeof HistoryQuery> }>(
    '/api/v1/presentations/:id/chat',
    {
      onRequest,
      schema: {
        tags,
        summary: 'Chat history, newest first (members); ?before=<message id> pages back',
        params: PresentationParams,
        querystring: HistoryQuery,
        response: { 200: HistoryResponse, ...errors },
      },
    },
    async (request) => {
      const { before, limit } = request.query;
      const messages = await chat.history(principalOf(request), request.params.id, { before, limit: limit ?? CHAT_HISTORY_DEFAULT_LIMIT });
      return { messages };
    },
  );

  app.get<InPresentation>(
    '/api/v1/presentations/:id/chat/unread',
    {
      onRequest,
      schema: {
        tags,
        summary: 'How many messages after the caller’s read mark (not deleted, not the caller’s own)',
        params: PresentationParams,
        response: { 200: UnreadResponse, ...errors },
      },
    },
    async (request) => ({ unread: await chat.unread(principalOf(request), request.params.id) }),
  );

  app.get<InPresentation>(
    '/api/v1/presentations/:id/chat/reads',
    {
      onRequest,
      schema: {
        tags,
        summary: 'Every member’s read mark (the newest message each has read)',
        params: PresentationParams,
        response: { 200: ReadsResponse, ...errors },
      },
    },
    async (request) => ({ reads: await chat.reads(principalOf(request), request.params.id) }),
  );

  app.post<InPresentation & { Body: Static<typeof ReadBody> }>(
    '/api/v1/presentations/:id/chat/read',
    {
      onRequest,
      schema: {
        tags,
        summary: 'Move the caller’s read mark forward (as chat_read on the socket); published as chat_read when it moved',
        params: PresentationParams,
        body: ReadBody,
        response: { 200: ReadMarkSchema, ...errors },
      },
    },
    async (request) => chat.markRead(principalOf(request), request.params.id, request.body.message_id),
  );

  app.post<InPresentation & { Body: Static<typeof TypingBody> }>(
    '/api/v1/presentations/:id/chat/typing',
    {
      onRequest,
      schema: {
        tags,
        summary: 'The caller types (or stopped): as chat_typing on the socket, for clients without one',
        params: PresentationParams,
        body: TypingBody,
        response: { 204: { type: 'null', description: 'accepted' }, ...errors },
      },
    },
    async (request, reply) => {
      await chat.setTyping(principalOf(request), request.params.id, request.body.typing);
      return reply.status(204).send();
    },
  );

  app.patch<OnMessage & { Body: Static<typeof EditMessageBody> }>(
    '/api/v1/chat/:message_id',
    {
      onRequest,
      schema: {
        tags,
        summary: 'Edit one’s own message; published as chat_message_updated',
        params: MessageParams,
        body: EditMessageBody,
        response: { 200: ChatMessageSchema, ...errors },
      },
    },
    async (request) => chat.edit(principalOf(request), request.params.message_id, request.body.text),
  );

  app.delete<OnMessage>(
    '/api/v1/chat/:message_id',
    {
      onRequest,
      schema: {
        tags,
        summary: 'Delete a message (its author, or an owner): a tombstone stays (deleted, text emptied); published as chat_message_deleted',
        params: MessageParams,
        response: { 200: ChatMessageSchema, ...errors },
      },
    },
    async (request) => chat.remove(principalOf(request), request.params.message_id),
  );
}
