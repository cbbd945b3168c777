-- Which user each Yjs client id of a document belongs to: the first user who wrote under it or introduced it in
-- awareness. The write guard refuses structs under a client id that belongs to someone else (a forger taking a
-- victim's next clocks would make the victim's own later edits look already known, and drop them).
CREATE TABLE document_clients (
  name text NOT NULL,
  client_id bigint NOT NULL,
  user_id text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, client_id)
);
