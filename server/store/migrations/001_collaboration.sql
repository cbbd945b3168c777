-- Presentations and their members, each with a role: owner, editor, commenter or viewer.
CREATE TABLE presentations (
  id          text PRIMARY KEY,
  title       text,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE presentation_members (
  presentation_id text NOT NULL REFERENCES presentations (id) ON DELETE CASCADE,
  user_id         text NOT NULL,
  role            text NOT NULL CHECK (role IN ('owner', 'editor', 'commenter', 'viewer')),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (presentation_id, user_id)
);

-- Yjs documents (Postgres is their source of truth): a compacted snapshot plus an append-only log of the updates since.
-- Loading = snapshot merged with every row left in the log; compaction merges rows into the snapshot and
-- deletes exactly the rows it merged, in one transaction.
CREATE TABLE documents (
  name          text PRIMARY KEY,
  snapshot      bytea,
  compacted_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE document_updates (
  seq         bigserial PRIMARY KEY,
  name        text NOT NULL,
  update      bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX document_updates_name_seq ON document_updates (name, seq);
