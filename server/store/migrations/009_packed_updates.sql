-- A log row may hold several updates of its document: the appends of one batch (server/store/packed-updates.ts).
-- Rows written before this migration hold one update each.
ALTER TABLE document_updates ADD COLUMN packed boolean NOT NULL DEFAULT false;
