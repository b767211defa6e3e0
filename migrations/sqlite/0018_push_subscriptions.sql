-- Web Push subscriptions (docs.joinmastodon.org/methods/push/): one per access token, as Mastodon
-- has it. Deliveries are `push.deliver` jobs.
CREATE TABLE push_subscriptions (
    id              INTEGER PRIMARY KEY,
    access_token_id INTEGER NOT NULL UNIQUE REFERENCES oauth_access_tokens (id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The bearer token itself: Mastodon's push payload carries it, so an app signed in to several
    -- accounts knows which one a notification is for. It goes when the token is deleted.
    access_token    TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    -- The subscriber's P-256 public key and auth secret, base64url.
    p256dh          TEXT NOT NULL,
    auth            TEXT NOT NULL,
    -- JSON object: notification type → wanted.
    alerts          TEXT NOT NULL,
    -- all | followed | follower | none
    policy          TEXT NOT NULL DEFAULT 'all',
    created_at      TEXT NOT NULL
);
CREATE INDEX push_subscriptions_account ON push_subscriptions (account_id);
