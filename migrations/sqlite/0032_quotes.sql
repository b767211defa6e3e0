-- Quote posts (FEP-044f as Mastodon 4.5 implements it). `statuses.quote_approval_policy` is who
-- may quote a status, as Mastodon stores it: automatic-approval flags << 16 | manual-approval
-- flags, each flag 1 unsupported, 2 public, 4 followers, 8 following (0: nobody but the author).
ALTER TABLE statuses ADD COLUMN quote_approval_policy INTEGER NOT NULL DEFAULT 0;

-- One quote per quoting status. `quoted_uri` is the quoted object's id as the quote named it,
-- kept when it could not be fetched or was deleted since. `state`: pending, accepted, rejected,
-- revoked. `approval_uri`: the QuoteAuthorization stamp of a remote quoted author (ours are served
-- at `{quoted author}/quote_authorizations/{id}`); `activity_uri`: the QuoteRequest's id.
CREATE TABLE quotes (
    id                INTEGER PRIMARY KEY,
    status_id         INTEGER NOT NULL UNIQUE REFERENCES statuses (id) ON DELETE CASCADE,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    quoted_status_id  INTEGER REFERENCES statuses (id) ON DELETE SET NULL,
    quoted_account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    quoted_uri        TEXT    NOT NULL,
    state             TEXT    NOT NULL,
    approval_uri      TEXT,
    activity_uri      TEXT,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL
);
CREATE INDEX quotes_quoted_status ON quotes (quoted_status_id, status_id);
CREATE INDEX quotes_quoted_uri ON quotes (quoted_uri);
CREATE INDEX quotes_approval_uri ON quotes (approval_uri);
