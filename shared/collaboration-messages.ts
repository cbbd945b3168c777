/**
 * The JSON collaboration socket, `WS /api/v1/realtime/collaboration/{presentation_id}?token=` (the SlideGenie seed's
 * collaboration socket, bridged onto the Yjs document). Every server → client message carries `timestamp`.
 *
 * client → server: `edit_operation` {operation}, `presence_update` {slide_id?, status?}, `cursor_update` {slide_id,
 *   field, index} (slide_id null clears it), `lock_slide` / `unlock_slide` {slide_id}, `ping`, `auth` {token}.
 * server → client: `connected`, `edit_operation`, `edit_ack`, `user_joined`, `user_left`, `presence_update`,
 *   `cursor_update`, `locks`, `pong`, `authenticated`, `error`.
 * No server-only imports and no Yjs here.
 */
import { Type, type Static } from 'typebox';
import type { DocumentJson } from './document-json.js';
import type { SlideLock } from './locks.js';
import { OperationSchema, SlideFieldSchema, SlideIdSchema, type AppliedOperation, type SlideField } from './operations.js';
import type { PresenceStatus } from './presence.js';
import { AuthMessage, PingMessage } from './messages.js';

const PresenceStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('idle'), Type.Literal('away')]);

export const EditOperationMessage = Type.Object({ type: Type.Literal('edit_operation'), operation: OperationSchema });
export const PresenceUpdateMessage = Type.Object({
  type: Type.Literal('presence_update'),
  slide_id: Type.Optional(Type.Union([SlideIdSchema, Type.Null()])),
  status: Type.Optional(PresenceStatusSchema),
});
export const CursorUpdateMessage = Type.Object({
  type: Type.Literal('cursor_update'),
  slide_id: Type.Union([SlideIdSchema, Type.Null()]),
  field: Type.Optional(Type.Union([SlideFieldSchema, Type.Null()])),
  index: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 10_000_000 }), Type.Null()])),
});
export const LockSlideMessage = Type.Object({ type: Type.Literal('lock_slide'), slide_id: SlideIdSchema });
export const UnlockSlideMessage = Type.Object({ type: Type.Literal('unlock_slide'), slide_id: SlideIdSchema });

export const COLLABORATION_CLIENT_SCHEMAS = {
  ping: PingMessage,
  auth: AuthMessage,
  edit_operation: EditOperationMessage,
  presence_update: PresenceUpdateMessage,
  cursor_update: CursorUpdateMessage,
  lock_slide: LockSlideMessage,
  unlock_slide: UnlockSlideMessage,
};

export type CollaborationClientMessage =
  | Static<typeof PingMessage>
  | Static<typeof AuthMessage>
  | Static<typeof EditOperationMessage>
  | Static<typeof PresenceUpdateMessage>
  | Static<typeof CursorUpdateMessage>
  | Static<typeof LockSlideMessage>
  | Static<typeof UnlockSlideMessage>;

/** A user present on the presentation (Yjs editors and JSON clients alike), one entry per user. */
export interface CollaborationUser {
  user_id: string;
  user_name: string;
  color: string;
  slide_id: string | null;
  status: PresenceStatus;
}

export interface CollaborationConnectedMessage {
  type: 'connected';
  presentation_id: string;
  user_id: string;
  role: string;
  /** The document now; every later change arrives as `edit_operation`, in order. */
  document: DocumentJson;
  users: CollaborationUser[];
  locks: SlideLock[];
  token_expires_at: string;
  timestamp: string;
}

/** A change of the document, in the order the server applied them; apply it to the copy as it comes. */
export interface EditOperationEvent {
  type: 'edit_operation';
  operation: AppliedOperation;
  /** Who made it (null when unknown, e.g. a change that came through another instance). */
  user_id: string | null;
  /** The client's `operation_id` when the change was one operation of a JSON client. */
  operation_id?: string;
  timestamp: string;
}

/** The operation is stored (durable): sent to its sender after its `edit_operation`s. */
export interface EditAckMessage {
  type: 'edit_ack';
  operation_id: string | null;
  timestamp: string;
}

export interface UserJoinedMessage extends CollaborationUser {
  type: 'user_joined';
  timestamp: string;
}
export interface PresenceUpdateEvent extends CollaborationUser {
  type: 'presence_update';
  timestamp: string;
}
export interface UserLeftMessage {
  type: 'user_left';
  user_id: string;
  timestamp: string;
}
export interface CursorUpdateEvent {
  type: 'cursor_update';
  user_id: string;
  slide_id: string | null;
  field: SlideField | null;
  index: number | null;
  timestamp: string;
}
