-- Direct conversations as each local participant sees them (Mastodon's AccountConversation): one
-- row per account per thread (`statuses.conversation_id`), pointing at its latest direct status.
-- Deleting a conversation deletes the row; the next message in the thread brings it back.
CREATE TABLE account_conversations (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL,
    last_status_id  INTEGER NOT NULL,
    unread          BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (account_id, conversation_id)
);
CREATE INDEX account_conversations_latest ON account_conversations (account_id, last_status_id);

-- How far each participant (local or remote) has read a thread: every direct status in it up to
-- `status_id` counts as seen. Written when a local user marks the conversation read and when a
-- `Read` arrives from a remote participant's server.
CREATE TABLE conversation_reads (
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL,
    status_id       INTEGER NOT NULL,
    read_at         TEXT NOT NULL,
    PRIMARY KEY (account_id, conversation_id)
);

-- Full-text search of direct messages (GET /api/v2/search?in=conversations): the plain text of
-- each direct status, keyed by status ID (FTS5 rowid).
-- Rows are written with the status (storage::statuses); this trigger removes them with it, however
-- it goes (a delete, an account's deletion).
CREATE VIRTUAL TABLE direct_search USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER statuses_direct_search_delete AFTER DELETE ON statuses WHEN old.visibility = 'direct'
BEGIN
    DELETE FROM direct_search WHERE rowid = old.id;
END;

-- Which servers take ActivityStreams `Read` receipts (advertised in their NodeInfo metadata), and
-- when that was last checked.
ALTER TABLE instances ADD COLUMN read_receipts BOOLEAN;
ALTER TABLE instances ADD COLUMN nodeinfo_checked_at TEXT;
