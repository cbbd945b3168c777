-- Chat per presentation. `seq` orders a presentation's messages (history pages, unread counts, read marks); `id` is
-- what clients see. A deleted message stays as a tombstone (deleted_at set, text emptied). Messages older than
-- CHAT_RETENTION_DAYS are pruned; a reply to a pruned message keeps its text, its reply_to becomes null.
CREATE TABLE chat_messages (
  id               uuid PRIMARY KEY,
  seq              bigserial NOT NULL UNIQUE,
  presentation_id  text NOT NULL REFERENCES presentations (id) ON DELETE CASCADE,
  user_id          text NOT NULL,
  user_name        text NOT NULL,
  text             text NOT NULL,
  reply_to         uuid REFERENCES chat_messages (id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  edited_at        timestamptz,
  deleted_at       timestamptz
);
CREATE INDEX chat_messages_history ON chat_messages (presentation_id, seq DESC);
CREATE INDEX chat_messages_created ON chat_messages (created_at);
CREATE INDEX chat_messages_reply_to ON chat_messages (reply_to) WHERE reply_to IS NOT NULL;

-- Read receipts: each member's newest read message per presentation (it only moves forward). No foreign key to the
-- message: a pruned message leaves the mark (and its seq) in place.
CREATE TABLE chat_reads (
  presentation_id  text NOT NULL REFERENCES presentations (id) ON DELETE CASCADE,
  user_id          text NOT NULL,
  message_id       uuid NOT NULL,
  message_seq      bigint NOT NULL,
  read_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (presentation_id, user_id)
);

-- User status: what the user chose (shown while connected) and when the user was last seen. Whether the user is
-- connected is not stored here: it is counted live (in this process, or per instance in Redis with a TTL).
CREATE TABLE user_status (
  user_id       text PRIMARY KEY,
  status        text NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'away', 'busy')),
  message       text,
  updated_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_seen_at  timestamptz
);

-- Who shares a presentation with whom (status visibility) looks members up by user.
CREATE INDEX presentation_members_user ON presentation_members (user_id);
