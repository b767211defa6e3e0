-- Lists (docs.joinmastodon.org/methods/lists/): named sets of followed accounts with a timeline
-- of their own. `replies_policy` is followed | list | none; an `exclusive` list's members are left
-- out of its owner's home feed.
CREATE TABLE lists (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title          TEXT NOT NULL,
    replies_policy TEXT NOT NULL DEFAULT 'list',
    exclusive      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     TEXT NOT NULL
);
CREATE INDEX lists_account ON lists (account_id, id);

-- Members: always accounts the owner follows (an unfollow removes them).
CREATE TABLE list_accounts (
    list_id    INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, account_id)
);
CREATE INDEX list_accounts_account ON list_accounts (account_id);
