/**
 * Client → server message types that other features add to the notifications socket (chat: `chat_typing`,
 * `chat_read`). A feature registers each type with its schema and handler before the app starts listening; the socket
 * validates such a message against the schema (INVALID_MESSAGE otherwise, as for its own types) and hands it to the
 * handler with the connection it came from. A handler refuses with a DomainError, sent back as an `error` message.
 */
import type { TSchema } from 'typebox';
import type { Principal } from '../auth/jwt.js';
import { DomainError } from '../errors.js';
import { createMessageParser, type ParseResult } from '../streaming/message-parser.js';

/** The connection a message came from, as a handler sees it. */
export interface SocketPeer {
  /** The connection's current principal (a token renewed with `auth` replaces it). */
  readonly principal: Principal;
  /** Runs `callback` when the connection closes (at once if it has). */
  onClose(callback: () => void): void;
}

/** A message of a registered type, validated against its schema. */
export interface ExtensionMessage {
  type: string;
  [field: string]: unknown;
}

export interface SocketMessageHandler {
  schema: TSchema;
  handle(peer: SocketPeer, message: ExtensionMessage): Promise<void> | void;
}

export class SocketMessages {
  private readonly handlers = new Map<string, SocketMessageHandler>();
  private readonly parsers = new Map<object, (text: string) => ParseResult<{ type: string }>>();

  /** Adds a message type; the socket's own types and types added before cannot be taken. */
  register(type: string, handler: SocketMessageHandler): void {
    if (this.parsers.size > 0) throw new Error(`socket message ${type} registered after the first connection`);
    if (this.handlers.has(type)) throw new Error(`socket message ${type} is registered twice`);
    this.handlers.set(type, handler);
  }

  has(type: string): boolean {
    return this.handlers.has(type);
  }

  /**
   * The parser of a socket whose own types are `builtIn`, plus every registered type (built once per set of own
   * types; registering after that is refused).
   */
  parser<M extends { type: string }>(builtIn: Record<M['type'], TSchema>): (text: string) => ParseResult<M | ExtensionMessage> {
    let parse = this.parsers.get(builtIn);
    if (!parse) {
      for (const type of Object.keys(builtIn)) if (this.handlers.has(type)) throw new Error(`socket message ${type} is the socket's own`);
      const schemas: Record<string, TSchema> = { ...builtIn };
      for (const [type, handler] of this.handlers) schemas[type] = handler.schema;
      parse = createMessageParser<{ type: string }>(schemas);
      this.parsers.set(builtIn, parse);
    }
    return parse as (text: string) => ParseResult<M | ExtensionMessage>;
  }

  async handle(peer: SocketPeer, message: ExtensionMessage): Promise<void> {
    const handler = this.handlers.get(message.type);
    if (!handler) throw new DomainError('INVALID_MESSAGE', `unknown message type ${JSON.stringify(message.type)}`);
    await handler.handle(peer, message);
  }
}
