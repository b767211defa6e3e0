-- Durable outbox: one row per (activity, target inbox), written in the same transaction as the
-- change it announces; workers sign and send due rows, retrying with back-off.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    activity_id     TEXT    NOT NULL,
    -- Local account that signs.
    actor_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    inbox_url       TEXT    NOT NULL,
    -- host[:port] of the inbox, for per-instance state.
    domain          TEXT    NOT NULL,
    -- The activity JSON (with @context), sent byte for byte.
    payload         TEXT    NOT NULL,
    -- The status this delivers, when there is one (for GET /api/v1/statuses/:id/deliveries).
    status_id       INTEGER,
    -- pending | delivered | failed
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    delivered_at    TEXT,
    UNIQUE (activity_id, inbox_url)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_status ON deliveries (status_id);

-- Activities already processed by the inbox (replays are acknowledged and skipped).
CREATE TABLE received_activities (
    activity_id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
);
