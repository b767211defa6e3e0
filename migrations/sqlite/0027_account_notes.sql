-- Private notes a user keeps about an account (`POST /api/v1/accounts/:id/note`, `Relationship.note`):
-- one per pair, seen only by its writer.
CREATE TABLE account_notes (
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    comment           TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    PRIMARY KEY (account_id, target_account_id)
);
