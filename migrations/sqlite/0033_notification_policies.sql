-- Notification filtering as Mastodon 4.3 does it (docs.joinmastodon.org/methods/notifications,
-- "policy" and "requests"). A notification the recipient's policy filters is stored with
-- `filtered` set: left out of lists, counts, streams and Web Push until its request is accepted.
ALTER TABLE notifications ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0;
CREATE INDEX notifications_filtered ON notifications (account_id, from_account_id) WHERE filtered = TRUE;

-- Each value is `accept`, `filter` or `drop`; no row means the defaults below.
CREATE TABLE notification_policies (
    account_id           INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    for_not_following    TEXT    NOT NULL DEFAULT 'accept',
    for_not_followers    TEXT    NOT NULL DEFAULT 'accept',
    for_new_accounts     TEXT    NOT NULL DEFAULT 'accept',
    for_private_mentions TEXT    NOT NULL DEFAULT 'filter',
    for_limited_accounts TEXT    NOT NULL DEFAULT 'filter',
    updated_at           TEXT    NOT NULL
);

-- One pending request per (recipient, sender) while filtered notifications from the sender wait.
-- `last_status_id`: the newest status of the sender among them (mentions and quotes).
CREATE TABLE notification_requests (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    last_status_id  INTEGER REFERENCES statuses (id) ON DELETE SET NULL,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    UNIQUE (account_id, from_account_id)
);

-- Senders whose request was accepted: never filtered again for this recipient.
CREATE TABLE notification_permissions (
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at      TEXT    NOT NULL,
    PRIMARY KEY (account_id, from_account_id)
);
