-- What a profile features: endorsed accounts (`POST /api/v1/accounts/:id/pin`) and featured
-- hashtags (`/api/v1/featured_tags`).
CREATE TABLE account_pins (
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (account_id, target_account_id)
);

CREATE TABLE featured_tags (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    UNIQUE (account_id, tag_id)
);

-- Follow suggestions a user dismissed (`DELETE /api/v1/suggestions/:account_id`).
CREATE TABLE suggestion_dismissals (
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, target_account_id)
);
