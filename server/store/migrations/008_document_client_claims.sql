-- A user may claim only so many new client ids in a document per window (COLLAB_CLIENT_ID_CLAIMS_MAX per
-- COLLAB_CLIENT_ID_CLAIMS_WINDOW_MS): a claim counts the user's claims since the window's start (claimed_at, 007),
-- which this index serves.
CREATE INDEX document_clients_user_claims ON document_clients (name, user_id, claimed_at);
