-- Statuses (posts and boosts), their mentions and hashtags, edits, follows, blocks, mutes,
-- favourites, bookmarks, pins, the home feed, notifications, markers and idempotency keys.

CREATE TABLE statuses (
    id                     INTEGER PRIMARY KEY,
    uri                    TEXT    NOT NULL UNIQUE,
    url                    TEXT,
    account_id             INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    in_reply_to_id         INTEGER REFERENCES statuses (id) ON DELETE SET NULL,
    in_reply_to_account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    -- Set for boosts: the boosted status.
    reblog_of_id           INTEGER REFERENCES statuses (id) ON DELETE CASCADE,
    -- Root of the thread (its own id for a root), for thread muting and conversations.
    conversation_id        INTEGER NOT NULL,
    -- What the author typed, and the HTML shown.
    text                   TEXT    NOT NULL DEFAULT '',
    content                TEXT    NOT NULL DEFAULT '',
    spoiler_text           TEXT    NOT NULL DEFAULT '',
    -- public | unlisted | private | direct
    visibility             TEXT    NOT NULL,
    sensitive              INTEGER NOT NULL DEFAULT 0,
    language               TEXT,
    local                  INTEGER NOT NULL,
    application_id         INTEGER REFERENCES oauth_applications (id) ON DELETE SET NULL,
    replies_count          INTEGER NOT NULL DEFAULT 0,
    reblogs_count          INTEGER NOT NULL DEFAULT 0,
    favourites_count       INTEGER NOT NULL DEFAULT 0,
    created_at             TEXT    NOT NULL,
    edited_at              TEXT
);
CREATE INDEX statuses_account ON statuses (account_id, id);
CREATE INDEX statuses_reblog_of ON statuses (reblog_of_id, account_id);
CREATE INDEX statuses_in_reply_to ON statuses (in_reply_to_id);
CREATE INDEX statuses_conversation ON statuses (conversation_id);
CREATE INDEX statuses_public ON statuses (id) WHERE visibility = 'public' AND reblog_of_id IS NULL;

-- Earlier versions of edited statuses (the original is stored at the first edit).
CREATE TABLE status_edits (
    id           INTEGER PRIMARY KEY,
    status_id    INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    text         TEXT    NOT NULL,
    content      TEXT    NOT NULL,
    spoiler_text TEXT    NOT NULL,
    sensitive    INTEGER NOT NULL,
    created_at   TEXT    NOT NULL
);
CREATE INDEX status_edits_status ON status_edits (status_id, id);

CREATE TABLE mentions (
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, account_id)
);
CREATE INDEX mentions_account ON mentions (account_id, status_id);

CREATE TABLE tags (
    id         INTEGER PRIMARY KEY,
    -- Lower-case; the form first used is kept as display_name.
    name       TEXT    NOT NULL UNIQUE,
    display_name TEXT  NOT NULL,
    created_at TEXT    NOT NULL
);

CREATE TABLE statuses_tags (
    status_id INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    tag_id    INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, tag_id)
);
CREATE INDEX statuses_tags_tag ON statuses_tags (tag_id, status_id);

CREATE TABLE tag_follows (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (account_id, tag_id)
);
CREATE INDEX tag_follows_tag ON tag_follows (tag_id);

CREATE TABLE follows (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    show_reblogs      INTEGER NOT NULL DEFAULT 1,
    notify            INTEGER NOT NULL DEFAULT 0,
    uri               TEXT,
    created_at        TEXT    NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX follows_target ON follows (target_account_id, account_id);

CREATE TABLE follow_requests (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    show_reblogs      INTEGER NOT NULL DEFAULT 1,
    notify            INTEGER NOT NULL DEFAULT 0,
    uri               TEXT,
    created_at        TEXT    NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX follow_requests_target ON follow_requests (target_account_id, id);

CREATE TABLE blocks (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri               TEXT,
    created_at        TEXT    NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX blocks_target ON blocks (target_account_id, account_id);

CREATE TABLE mutes (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hide_notifications INTEGER NOT NULL DEFAULT 1,
    -- NULL: until unmuted.
    expires_at         TEXT,
    created_at         TEXT    NOT NULL,
    UNIQUE (account_id, target_account_id)
);

CREATE TABLE favourites (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    UNIQUE (account_id, status_id)
);
CREATE INDEX favourites_status ON favourites (status_id, id);

CREATE TABLE bookmarks (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    UNIQUE (account_id, status_id)
);

CREATE TABLE status_pins (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    UNIQUE (account_id, status_id)
);

CREATE TABLE conversation_mutes (
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL,
    PRIMARY KEY (account_id, conversation_id)
);

-- Fan-out on write: one row per (reader, status) for home timelines; boosts appear as the boost.
CREATE TABLE home_feed (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, status_id)
);
CREATE INDEX home_feed_status ON home_feed (status_id);

CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- mention | status | reblog | follow | follow_request | favourite | update
    type            TEXT    NOT NULL,
    status_id       INTEGER REFERENCES statuses (id) ON DELETE CASCADE,
    created_at      TEXT    NOT NULL
);
CREATE INDEX notifications_account ON notifications (account_id, id);
CREATE UNIQUE INDEX notifications_dedupe ON notifications (account_id, from_account_id, type, coalesce(status_id, 0));

CREATE TABLE markers (
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- home | notifications
    timeline     TEXT    NOT NULL,
    last_read_id INTEGER NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (account_id, timeline)
);

CREATE TABLE idempotency_keys (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (account_id, key)
);

-- Counters shown on accounts, kept in step by the writes that change them (a status posted or
-- deleted, a follow made or ended), so reading an account never counts rows.
CREATE TABLE account_stats (
    account_id      INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    statuses_count  INTEGER NOT NULL DEFAULT 0,
    following_count INTEGER NOT NULL DEFAULT 0,
    followers_count INTEGER NOT NULL DEFAULT 0,
    last_status_at  TEXT
);
