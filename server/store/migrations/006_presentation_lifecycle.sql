-- Dashboards list presentations with their last change, and delete them.
-- updated_at: the last change of the presentation row itself (title, members); GET /presentations reports the later
-- of it and the stored document's last change (its newest log row, or its last compaction).
ALTER TABLE presentations ADD COLUMN updated_at timestamptz;
UPDATE presentations SET updated_at = created_at;
ALTER TABLE presentations ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE presentations ALTER COLUMN updated_at SET DEFAULT now();
-- "My presentations" reads memberships by user: presentation_members_user (005) serves it.

-- Deleted presentations. Opening a deleted id does not create it again (AUTO_CREATE_PRESENTATIONS), so an editor that
-- reconnects with the old document in memory cannot bring its content back; an explicit PUT /presentations/{id}
-- creates it anew (and clears this row). Everything else of a deleted presentation is gone: the presentations row
-- (every table that references it cascades), the document's snapshot and its log.
CREATE TABLE deleted_presentations (
  id          text PRIMARY KEY,
  deleted_by  text NOT NULL,
  deleted_at  timestamptz NOT NULL DEFAULT now()
);
