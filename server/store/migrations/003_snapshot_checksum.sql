-- The SHA-256 of the snapshot, written with it by compaction. A snapshot whose checksum matches is applied without
-- first decoding it whole (the load's most expensive safety pass); one without (written before this migration) or
-- with a mismatch is still decoded first, so a corrupt snapshot is skipped instead of half-applied.
ALTER TABLE documents ADD COLUMN snapshot_sha256 bytea;
