-- Versions: a named or automatic snapshot of a presentation's document. Each version keeps its own full
-- snapshot (a Yjs update merged from the database), independent of the update log: compaction folds and deletes log
-- rows but never reads or touches these, so no compaction can take away what a version needs.
-- kind: 'manual' (POST …/versions), 'automatic' (every VERSION_INTERVAL_MS of activity), 'backup' (taken just before
-- a restore; restoring it undoes the restore). content_sha256 hashes the plain JSON content (keys sorted): two
-- versions with the same hash show the same document, which is how "changed since the last version" is decided.
-- seq orders the list (newest first) and is its page cursor.
CREATE TABLE presentation_versions (
  id               uuid PRIMARY KEY,
  seq              bigserial NOT NULL,
  presentation_id  text NOT NULL REFERENCES presentations (id) ON DELETE CASCADE,
  kind             text NOT NULL CHECK (kind IN ('manual', 'automatic', 'backup')),
  label            text,
  created_by       text,
  created_by_name  text,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  snapshot         bytea NOT NULL,
  content_sha256   bytea NOT NULL,
  size_bytes       integer NOT NULL
);
CREATE INDEX presentation_versions_newest ON presentation_versions (presentation_id, seq DESC);

-- Activity: who did what to a presentation and when (locks, member changes, versions, restores …).
-- Rows older than ACTIVITY_RETENTION_DAYS are pruned; they go with their presentation.
CREATE TABLE presentation_activity (
  id               bigserial PRIMARY KEY,
  presentation_id  text NOT NULL REFERENCES presentations (id) ON DELETE CASCADE,
  type             text NOT NULL,
  actor_id         text,
  actor_name       text,
  at               timestamptz NOT NULL DEFAULT clock_timestamp(),
  details          jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX presentation_activity_newest ON presentation_activity (presentation_id, id DESC);
CREATE INDEX presentation_activity_at ON presentation_activity (at);
