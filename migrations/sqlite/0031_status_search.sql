-- Full-text search of statuses (GET /api/v2/search?type=statuses, Mastodon 4.2's rules): the plain
-- text of every status that is not a boost (text and content warning), keyed by status ID (FTS5
-- rowid), written with the status and on edits; the trigger removes it with the status.
CREATE VIRTUAL TABLE status_search USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER statuses_search_delete AFTER DELETE ON statuses
BEGIN
    DELETE FROM status_search WHERE rowid = old.id;
END;
-- Statuses stored before this migration are indexed by a durable job, in batches, without markup.
INSERT INTO jobs (id, kind, payload, run_at, created_at)
    VALUES (1, 'status_search_backfill', '{"after": 0}', '1970-01-01T00:00:00Z', '1970-01-01T00:00:00Z');

-- Whether an account's public posts may be found by anyone's full-text search (`Account.indexable`,
-- `toot:indexable`); off unless the account opts in.
ALTER TABLE accounts ADD COLUMN indexable BOOLEAN NOT NULL DEFAULT FALSE;
