/**
 * Deckhand client SDK (browsers and Node 20+): collaborative presentations over Hocuspocus, job progress and
 * notifications over WebSocket with an SSE fallback. Start with `createDeckhandClient`.
 */
export { createDeckhandClient, type ClientOptions, type DeckhandClient } from './client.js';
export type { DeckhandClientOptions, WebSocketConstructor } from './context.js';
export { bindTextInput } from './dom/bind-text-input.js';
export { DeckhandError } from './errors.js';
export { JsonPresentation, type CursorPlace, type JsonPresentationStatus } from './documents/json-presentation.js';
export { DocumentOperations, type AppliedBatch } from './documents/operations.js';
export { applyOperation, type DocumentJson, type SlideJson } from '../shared/document-json.js';
export type { AppliedOperation, Operation, SlideField } from '../shared/operations.js';
export type { CollaborationUser } from '../shared/collaboration-messages.js';
export { JobFollower, type FollowJobOptions, type JobEvent, type JobListOptions } from './jobs.js';
export type { JobListResponse, PresentationListResponse, PresentationSummary } from '../shared/dashboard-api.js';
export type { LiveStatus, TransportKind, TransportMode } from './live/live-stream.js';
export { Notifications, type NotificationList } from './notifications.js';
export { Presentations } from './presentations.js';
export { Versions } from './versions.js';
export { Activity } from './activity.js';
export { ChatRoom, type ChatRoomEvents, type Typist } from './chat/room.js';
export { Statuses } from './status.js';
export type { ChatMessage, ChatReadMark } from '../shared/chat.js';
export type { ChosenStatus, UserStatus, UserStatusValue } from '../shared/status.js';
export type { Comment } from './presentation/comments.js';
export type { Locks } from './presentation/locks.js';
export type { Peer, PeerUser, Presence } from './presentation/presence.js';
export { PresentationSession, type ConnectionStatus, type SessionState } from './presentation/session.js';
export type { NewSlide, SlideSummary, Slides } from './presentation/slides.js';
export { readClaims, type TokenSource } from './token.js';
export type { ErrorCode } from '../shared/errors.js';
export type { SlideLock } from '../shared/locks.js';
export type { PresenceStatus } from '../shared/presence.js';
export type { JobProgressData, JobResponse, JobStatus, NotificationData, NotificationMessage } from '../shared/messages.js';
export type { RestoreResult, VersionDocument, VersionKind, VersionList, VersionSummary } from '../shared/versions.js';
export type { ActivityActor, ActivityEvent, ActivityList, ActivityType } from '../shared/activity.js';
