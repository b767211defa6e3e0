-- Direct conversations as each local participant sees them (Mastodon's AccountConversation): one
-- row per account per thread (`statuses.conversation_id`), pointing at its latest direct status.
-- Deleting a conversation deletes the row; the next message in the thread brings it back.
CREATE TABLE account_conversations (
    id              BIGINT PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL,
    last_status_id  BIGINT NOT NULL,
    unread          BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (account_id, conversation_id)
);
CREATE INDEX account_conversations_latest ON account_conversations (account_id, last_status_id);

-- How far each participant (local or remote) has read a thread: every direct status in it up to
-- `status_id` counts as seen. Written when a local user marks the conversation read and when a
-- `Read` arrives from a remote participant's server.
CREATE TABLE conversation_reads (
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL,
    status_id       BIGINT NOT NULL,
    read_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, conversation_id)
);

-- Full-text search of direct messages (GET /api/v2/search?in=conversations): their text without
-- markup, as a 'simple' tsvector (no stemming: messages are in any language).
CREATE INDEX statuses_direct_search ON statuses
    USING gin (to_tsvector('simple', regexp_replace(content, '<[^>]*>', ' ', 'g')))
    WHERE visibility = 'direct';

-- Which servers take ActivityStreams `Read` receipts (advertised in their NodeInfo metadata), and
-- when that was last checked.
ALTER TABLE instances ADD COLUMN read_receipts BOOLEAN;
ALTER TABLE instances ADD COLUMN nodeinfo_checked_at TIMESTAMPTZ;
