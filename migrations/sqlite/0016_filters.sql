-- Filters (docs.joinmastodon.org/methods/filters/): per-user keyword and status filters applied
-- to timelines, notifications and streams. `context` is a JSON array of home | notifications |
-- public | thread | account; `filter_action` warn | hide; no `expires_at` means no expiry.
CREATE TABLE filters (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    context       TEXT NOT NULL,
    filter_action TEXT NOT NULL DEFAULT 'warn',
    expires_at    TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX filters_account ON filters (account_id);

CREATE TABLE filter_keywords (
    id         INTEGER PRIMARY KEY,
    filter_id  INTEGER NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword    TEXT NOT NULL,
    whole_word BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX filter_keywords_filter ON filter_keywords (filter_id);

CREATE TABLE filter_statuses (
    id        INTEGER PRIMARY KEY,
    filter_id INTEGER NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    status_id INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    UNIQUE (filter_id, status_id)
);
