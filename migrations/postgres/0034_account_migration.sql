-- Account migration (issue 27), as Mastodon does it: aliases (`alsoKnownAs`), `Move`, redirects.

-- The account this one moved to (`movedTo`; `Account.moved`), local or remote.
ALTER TABLE accounts ADD COLUMN moved_to_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL;
-- A remote actor's `alsoKnownAs` (actor URIs, a JSON array) as last fetched; a local account's
-- aliases are rows of `account_aliases`.
ALTER TABLE accounts ADD COLUMN also_known_as JSONB NOT NULL DEFAULT '[]';
CREATE INDEX accounts_moved_to ON accounts (moved_to_account_id) WHERE moved_to_account_id IS NOT NULL;

-- Other accounts a local user says are also theirs: a move from one of them to here is accepted.
CREATE TABLE account_aliases (
    id         BIGINT  PRIMARY KEY,
    account_id BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- As typed and resolved (`user@domain`), for showing.
    acct       TEXT    NOT NULL,
    -- The alias's actor URI, sent in `alsoKnownAs`.
    uri        TEXT    NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (account_id, uri)
);

-- Moves made by local accounts: their history and the 30-day cooldown between them.
CREATE TABLE account_migrations (
    id                BIGINT  PRIMARY KEY,
    account_id        BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    acct              TEXT    NOT NULL,
    followers_count   BIGINT  NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX account_migrations_account ON account_migrations (account_id, created_at);
