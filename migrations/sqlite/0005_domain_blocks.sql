-- Servers this instance refuses to federate with (suspend), or keeps a note about (noop).
CREATE TABLE domain_blocks (
    id              INTEGER PRIMARY KEY,
    -- Lower-case host, with :port when the server uses one.
    domain          TEXT    NOT NULL UNIQUE,
    -- suspend | silence | noop
    severity        TEXT    NOT NULL DEFAULT 'suspend',
    reject_media    INTEGER NOT NULL DEFAULT 0,
    reject_reports  INTEGER NOT NULL DEFAULT 0,
    private_comment TEXT,
    public_comment  TEXT,
    obfuscate       INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT    NOT NULL
);
