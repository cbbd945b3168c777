/**
 * The Deckhand client: one per server. Presentations share one collaboration socket (a HocuspocusProviderWebsocket
 * that carries every open document); job followers and notifications use the realtime endpoints; chat rooms and
 * status followers share one channel stream (client/live/channel-stream.ts).
 */
import { HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { isPresentationId } from '../shared/presentation.js';
import { createContext, type ClientContext, type DeckhandClientOptions } from './context.js';
import type { JobListResponse } from '../shared/dashboard-api.js';
import { JsonPresentation } from './documents/json-presentation.js';
import { DocumentOperations } from './documents/operations.js';
import type { JobResponse } from '../shared/messages.js';
import { cancelJob, fetchJob, JobFollower, listJobs, type FollowJobOptions, type JobEvent, type JobListOptions } from './jobs.js';
import type { TransportMode } from './live/live-stream.js';
import { Notifications } from './notifications.js';
import { Activity } from './activity.js';
import { Presentations } from './presentations.js';
import { Versions } from './versions.js';
import { PresentationSession } from './presentation/session.js';
import { ChatRoom } from './chat/room.js';
import { ChannelStream } from './live/channel-stream.js';
import { Statuses } from './status.js';

export interface DeckhandClient {
  /** Opens (or returns the already open) presentation `id`, on the shared collaboration socket. */
  openPresentation(id: string): PresentationSession;
  /** Opens presentation `id` over the JSON collaboration socket: a JSON copy and operations, no Yjs needed. */
  openJsonPresentation(id: string): JsonPresentation;
  /** The operations API: apply a batch to a presentation (all or none), read its document as JSON. */
  readonly operations: DocumentOperations;
  /** Follows a job's progress until it ends (or `stop()`); see JobFollower. */
  followJob(jobId: string, onEvent: (event: JobEvent) => void, options?: FollowJobOptions): JobFollower;
  /** A job's whole record, `result` included (its owner or a job service). */
  getJob(jobId: string): Promise<JobResponse>;
  /** The signed-in user's jobs, newest first, a page at a time (pass `next_cursor` back as `cursor`). */
  listJobs(options?: JobListOptions): Promise<JobListResponse>;
  /** Cancels a job (its user, or a job service): followers see `cancelled`; CONFLICT once it had ended. */
  cancelJob(jobId: string, reason?: string): Promise<JobResponse>;
  readonly notifications: Notifications;
  /** Versions of presentations: take, list, read, restore. */
  readonly versions: Versions;
  /** What happened to a presentation (locks, members, versions, restores). */
  readonly activity: Activity;
  /** The chat of presentation `id` (the same room until it is closed). */
  chat(presentationId: string): ChatRoom;
  /** User status: set one's own, read and follow others'. */
  readonly status: Statuses;
  /** The user's presentations (list with roles, delete). */
  readonly presentations: Presentations;
  /** The shared collaboration socket (created by the first openPresentation). */
  readonly collabSocket: HocuspocusProviderWebsocket | undefined;
  /** Closes every presentation, follower and stream, and the shared socket. */
  destroy(): void;
}

export interface ClientOptions extends DeckhandClientOptions {
  /** Transport of notifications (`auto`: WebSocket, SSE when a WebSocket cannot be opened). */
  notificationsTransport?: TransportMode;
  /** Transport of chat and status events (`auto`: WebSocket, SSE when a WebSocket cannot be opened). */
  channelsTransport?: TransportMode;
}

export function createDeckhandClient(options: ClientOptions): DeckhandClient {
  const ctx: ClientContext = createContext(options);
  const sessions = new Map<string, PresentationSession>();
  const followers = new Set<JobFollower>();
  const jsonPresentations = new Set<JsonPresentation>();
  const operations = new DocumentOperations(ctx);
  const notifications = new Notifications(ctx, options.notificationsTransport);
  const channels = new ChannelStream(ctx, options.channelsTransport);
  const rooms = new Map<string, ChatRoom>();
  const status = new Statuses(ctx, channels);
  let socket: HocuspocusProviderWebsocket | undefined;

  const sharedSocket = (): HocuspocusProviderWebsocket =>
    (socket ??= new HocuspocusProviderWebsocket({
      url: ctx.wsUrl('/api/v1/collab'),
      WebSocketPolyfill: ctx.WebSocket,
      delay: ctx.backoff.minDelayMs,
      minDelay: ctx.backoff.minDelayMs,
      maxDelay: ctx.backoff.maxDelayMs,
    }));

  return {
    openPresentation(id) {
      if (!isPresentationId(id)) throw new TypeError(`not a presentation id: ${JSON.stringify(id)}`);
      const open = sessions.get(id);
      if (open) return open;
      const session = new PresentationSession(id, sharedSocket(), ctx.token, () => sessions.delete(id));
      sessions.set(id, session);
      return session;
    },
    openJsonPresentation(id) {
      if (!isPresentationId(id)) throw new TypeError(`not a presentation id: ${JSON.stringify(id)}`);
      const presentation = new JsonPresentation(ctx, id);
      jsonPresentations.add(presentation);
      presentation.onStatus((status) => status === 'closed' && jsonPresentations.delete(presentation));
      return presentation;
    },
    operations,
    followJob(jobId, onEvent, followOptions) {
      const follower = new JobFollower(ctx, jobId, onEvent, followOptions, () => followers.delete(follower));
      followers.add(follower);
      return follower;
    },
    getJob: (jobId) => fetchJob(ctx, jobId),
    listJobs: (listOptions) => listJobs(ctx, listOptions),
    cancelJob: (jobId, reason) => cancelJob(ctx, jobId, reason),
    notifications,
    versions: new Versions(ctx),
    activity: new Activity(ctx),
    chat(presentationId) {
      if (!isPresentationId(presentationId)) throw new TypeError(`not a presentation id: ${JSON.stringify(presentationId)}`);
      const open = rooms.get(presentationId);
      if (open) return open;
      const room = new ChatRoom(ctx, channels, presentationId, () => rooms.delete(presentationId));
      rooms.set(presentationId, room);
      return room;
    },
    status,
    presentations: new Presentations(ctx),
    get collabSocket() {
      return socket;
    },
    destroy() {
      for (const session of [...sessions.values()]) session.close();
      for (const follower of [...followers]) follower.stop();
      for (const presentation of [...jsonPresentations]) presentation.close();
      notifications.close();
      for (const room of [...rooms.values()]) room.close();
      channels.close();
      socket?.destroy();
      socket = undefined;
    },
  };
}
