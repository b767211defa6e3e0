-- Single-use tokens mailed to users: e-mail confirmation and password reset links. Only a hash
-- of the token is kept.
CREATE TABLE user_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- confirm | reset
    purpose    TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);
