-- Shorts: vertical video posts with their own feeds and view counts (docs/API.md, Shorts).
ALTER TABLE statuses ADD COLUMN short BOOLEAN NOT NULL DEFAULT FALSE;
-- Views (one per viewer per day) and the ones watched to the end, counted as they come.
ALTER TABLE statuses ADD COLUMN views_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE statuses ADD COLUMN completed_views_count BIGINT NOT NULL DEFAULT 0;
CREATE INDEX statuses_shorts ON statuses (id) WHERE short;
CREATE INDEX statuses_account_shorts ON statuses (account_id, id) WHERE short;

CREATE TABLE short_views (
    status_id       BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- UTC day, YYYY-MM-DD: a viewer counts once a day.
    day             TEXT NOT NULL,
    watched_seconds DOUBLE PRECISION NOT NULL,
    completed       BOOLEAN NOT NULL,
    PRIMARY KEY (status_id, account_id, day)
);
