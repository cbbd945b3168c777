/**
 * What the streaming routes of every feature declare the same way: the query of a WebSocket and of an SSE request,
 * the SSE responses for OpenAPI, the guards before an SSE stream opens, and the answer to a plain GET on a
 * WebSocket route.
 */
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { Type } from 'typebox';
import { requireUser } from '../http/auth.js';
import { DomainError } from '../errors.js';
import { ErrorResponseSchema } from '../http/errors.js';
import { checkSseOrigin } from './admission.js';
import type { StreamingContext } from './context.js';

export const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ description: 'JWT, for clients that cannot set headers' })) });

export const SseQuery = Type.Object({
  token: Type.Optional(Type.String({ description: 'JWT (EventSource cannot set headers)' })),
  last_event_id: Type.Optional(Type.String({ description: 'resume point, for a new EventSource (else the Last-Event-ID header)' })),
});

export const SSE_RESPONSES = {
  200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  429: ErrorResponseSchema,
};

/** Origin first, then the token: the onRequest hooks of an SSE route. */
export function sseGuards(ctx: StreamingContext): onRequestHookHandler[] {
  // A stream verifies its token once: not remembered (./auth/verified-tokens.ts), which would cost memory per stream.
  return [async (request: FastifyRequest) => checkSseOrigin(ctx, request), requireUser(ctx.verifier, { remember: false })];
}

/**
 * The `handler` of a WebSocket route (`wsHandler` takes the upgrade; `websocket: true` would hide the route from
 * OpenAPI): a plain GET gets INVALID_MESSAGE.
 */
export async function notAnUpgrade(): Promise<never> {
  throw new DomainError('INVALID_MESSAGE', 'this is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)');
}
