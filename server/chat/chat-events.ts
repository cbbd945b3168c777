/**
 * The live events of a presentation's chat, published on the bus channel `chat.{presentation_id}`. Messages and read
 * marks are in Postgres before their event is published; a publish the bus cannot take (Redis down) is retried in
 * order once it is back (MessageRetry), and subscribers that missed events meanwhile get a `reset` and reload from the
 * REST API. Typing events go through the same queue, so a `typing:false` is never overtaken by its `typing:true`.
 */
import type { FastifyBaseLogger } from 'fastify';
import { chatChannel } from '../../shared/channels.js';
import type { ChatEvent, ChatMessage, ChatMessageEvent, ChatReadMark } from '../../shared/chat.js';
import type { Bus } from '../bus/types.js';
import type { Metrics } from '../metrics.js';
import { MessageRetry } from '../streaming/publish-retry.js';

export class ChatEvents {
  private readonly retry: MessageRetry;

  constructor(bus: Bus, metrics: Metrics, log: FastifyBaseLogger) {
    this.retry = new MessageRetry(bus, metrics, log, 'chat event');
  }

  message(type: ChatMessageEvent['type'], message: ChatMessage): Promise<void> {
    return this.publish({ type, ...message, timestamp: new Date().toISOString() });
  }

  typing(presentationId: string, userId: string, userName: string, typing: boolean): Promise<void> {
    return this.publish({
      type: 'chat_typing',
      presentation_id: presentationId,
      user_id: userId,
      user_name: userName,
      typing,
      timestamp: new Date().toISOString(),
    });
  }

  read(presentationId: string, mark: ChatReadMark): Promise<void> {
    return this.publish({ type: 'chat_read', presentation_id: presentationId, ...mark, timestamp: new Date().toISOString() });
  }

  stop(): void {
    this.retry.stop();
  }

  private publish(event: ChatEvent): Promise<void> {
    return this.retry.publish(chatChannel(event.presentation_id), JSON.stringify(event));
  }
}
