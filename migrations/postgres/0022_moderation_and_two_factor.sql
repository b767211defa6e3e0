-- Account moderation (silence, suspend), reports, two-factor sign-in and e-mail changes.

-- Set while a moderator limits ("silences") or suspends the account; NULL otherwise.
ALTER TABLE accounts ADD COLUMN silenced_at TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN suspended_at TIMESTAMPTZ;

-- TOTP (RFC 6238) secret in base32, set once enrolment is confirmed; the secret being enrolled
-- waits in otp_pending_secret until the first code proves the authenticator has it.
ALTER TABLE users ADD COLUMN otp_secret TEXT;
ALTER TABLE users ADD COLUMN otp_pending_secret TEXT;
-- The last 30-second step a code was accepted for: a code is never accepted twice.
ALTER TABLE users ADD COLUMN otp_last_step BIGINT NOT NULL DEFAULT 0;
-- A new address waiting for its confirmation link to be followed.
ALTER TABLE users ADD COLUMN unconfirmed_email TEXT;

-- Single-use recovery codes for two-factor sign-in; only a hash is kept.
CREATE TABLE otp_recovery_codes (
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_at   TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

-- Reports by local users (or forwarded by other servers as Flag activities) about an account.
CREATE TABLE reports (
    id                BIGINT PRIMARY KEY,
    -- Who reported: a local account, or a remote server's actor for forwarded reports.
    account_id        BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- JSON arrays of status and rule IDs (numbers).
    status_ids        JSONB   NOT NULL DEFAULT '[]',
    rule_ids          JSONB   NOT NULL DEFAULT '[]',
    comment           TEXT    NOT NULL DEFAULT '',
    -- spam | legal | violation | other
    category          TEXT    NOT NULL DEFAULT 'other',
    -- Sent on to the target's server as a Flag.
    forwarded         BOOLEAN NOT NULL DEFAULT FALSE,
    -- The Flag's id, for reports that came from another server.
    uri               TEXT,
    assigned_account_id     BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    action_taken_at         TIMESTAMPTZ,
    action_taken_by_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at        TIMESTAMPTZ    NOT NULL,
    updated_at        TIMESTAMPTZ    NOT NULL
);
CREATE INDEX reports_target ON reports (target_account_id);
CREATE INDEX reports_open ON reports (action_taken_at, id);

-- admin.report notifications (to moderators) point at the report.
ALTER TABLE notifications ADD COLUMN report_id BIGINT REFERENCES reports (id) ON DELETE CASCADE;
DROP INDEX notifications_dedupe;
CREATE UNIQUE INDEX notifications_dedupe ON notifications
    (account_id, from_account_id, type, coalesce(status_id, 0), coalesce(story_id, 0), coalesce(report_id, 0));
