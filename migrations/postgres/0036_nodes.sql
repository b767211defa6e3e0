-- Several nodes (issue 28). Claims name the node holding them (`jobs::node_id`), so a node that
-- shuts down releases its own at once instead of leaving them to lapse.
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;

-- Periodic work that runs once per interval across the cluster (`jobs::singleton`): the node
-- holding `name` until `leased_until` runs it; `last_run_at` says when it last finished.
CREATE TABLE singletons (
    name         TEXT PRIMARY KEY,
    holder       TEXT,
    leased_until TIMESTAMPTZ,
    last_run_at  TIMESTAMPTZ
);

-- Streaming events too large for a PostgreSQL NOTIFY payload (8,000 bytes) travel by reference:
-- the sending node stores the event here and notifies its ID (`realtime::cluster`). Rows older
-- than a few minutes are deleted.
CREATE TABLE stream_events (
    id         BIGINT      PRIMARY KEY,
    body       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Presence across nodes: a row per account and node it has a streaming connection on, renewed
-- every 30 s while it lasts; an account is online while one of its rows has not expired.
CREATE TABLE presence (
    account_id BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    node       TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, node)
);

-- Rate limits across nodes (`service::rate_limit`, GCRA): per key, the theoretical arrival time of
-- the next action, in Unix milliseconds. Unlogged: counters need no crash safety.
CREATE UNLOGGED TABLE rate_limits (
    key    TEXT   PRIMARY KEY,
    tat_ms BIGINT NOT NULL
);
