-- Full-text search of statuses (GET /api/v2/search?type=statuses, Mastodon 4.2's rules): the text
-- and content warning of every status that is not a boost, without markup, as a 'simple' tsvector
-- (no stemming: posts are in any language).
CREATE INDEX statuses_search ON statuses
    USING gin (to_tsvector('simple', regexp_replace(content || ' ' || spoiler_text, '<[^>]*>', ' ', 'g')))
    WHERE reblog_of_id IS NULL;

-- Whether an account's public posts may be found by anyone's full-text search (`Account.indexable`,
-- `toot:indexable`); off unless the account opts in.
ALTER TABLE accounts ADD COLUMN indexable BOOLEAN NOT NULL DEFAULT FALSE;
