/**
 * One error shape for every HTTP response: `{type:"error", error_code, message, details?, timestamp}`, with the
 * status fixed by the code (shared/errors.ts HTTP_STATUS_BY_CODE). This is the one place where the domain's errors
 * (server/errors.ts DomainError) become HTTP statuses; Fastify's own errors (validation, body too large, 404) get the
 * code of their status.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { errorMessage, HTTP_STATUS_BY_CODE, type ErrorCode } from '../../shared/errors.js';
import { DomainError } from '../errors.js';

/** The HTTP status of a domain error code. */
export function statusOf(code: ErrorCode): number {
  return HTTP_STATUS_BY_CODE[code];
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'INVALID_MESSAGE';
    case 401:
      return 'AUTHENTICATION_FAILED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'INVALID_MESSAGE';
    case 423:
      return 'LOCKED';
    case 429:
      return 'RATE_LIMIT_EXCEEDED';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    default:
      return status >= 400 && status < 500 ? 'INVALID_MESSAGE' : 'INTERNAL_ERROR';
  }
}

/** Schema of the error body, for route schemas and OpenAPI. */
export const ErrorResponseSchema = {
  type: 'object',
  required: ['type', 'error_code', 'message', 'timestamp'],
  properties: {
    type: { type: 'string', const: 'error' },
    error_code: { type: 'string' },
    message: { type: 'string' },
    details: {},
    timestamp: { type: 'string', format: 'date-time' },
  },
} as const;

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | DomainError, request, reply) => {
    if (error instanceof DomainError) {
      return reply.status(statusOf(error.code)).send(errorMessage(error.code, error.message, error.details));
    }
    if (error.validation) {
      return reply.status(400).send(
        errorMessage(
          'INVALID_MESSAGE',
          error.message,
          error.validation.map((v) => ({ path: v.instancePath, message: v.message })),
        ),
      );
    }
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const code = codeForStatus(status);
    return reply.status(status).send(errorMessage(code, status >= 500 ? 'internal error' : error.message));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorMessage('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
