-- Delivery health per remote server: consecutive failures, and since when it counts as unreachable
-- (deliveries to it are postponed, not attempted, until it answers again or talks to us).
CREATE TABLE instances (
    domain            TEXT    PRIMARY KEY,
    failures          INTEGER NOT NULL DEFAULT 0,
    unreachable_since TEXT,
    last_success_at   TEXT,
    last_failure_at   TEXT
);
