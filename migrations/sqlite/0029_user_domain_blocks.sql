-- Servers a user hides for themselves (`/api/v1/domain_blocks`, docs.joinmastodon.org/methods/domain_blocks/):
-- their accounts' posts leave the user's timelines and notifications, their followers of the user are removed.
CREATE TABLE user_domain_blocks (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Lower-case host, with :port when the server uses one (as `accounts.domain`).
    domain     TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    UNIQUE (account_id, domain)
);
