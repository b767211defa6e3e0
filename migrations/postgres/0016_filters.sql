-- Filters (docs.joinmastodon.org/methods/filters/): per-user keyword and status filters applied
-- to timelines, notifications and streams. `context` is a JSONB array of home | notifications |
-- public | thread | account; `filter_action` warn | hide; no `expires_at` means no expiry.
CREATE TABLE filters (
    id            BIGINT PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    context       JSONB NOT NULL,
    filter_action TEXT NOT NULL DEFAULT 'warn',
    expires_at    TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX filters_account ON filters (account_id);

CREATE TABLE filter_keywords (
    id         BIGINT PRIMARY KEY,
    filter_id  BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword    TEXT NOT NULL,
    whole_word BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX filter_keywords_filter ON filter_keywords (filter_id);

CREATE TABLE filter_statuses (
    id        BIGINT PRIMARY KEY,
    filter_id BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    UNIQUE (filter_id, status_id)
);
