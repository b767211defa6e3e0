-- Servers this instance refuses to federate with (suspend), or keeps a note about (noop).
CREATE TABLE domain_blocks (
    id              BIGINT PRIMARY KEY,
    -- Lower-case host, with :port when the server uses one.
    domain          TEXT    NOT NULL UNIQUE,
    -- suspend | silence | noop
    severity        TEXT    NOT NULL DEFAULT 'suspend',
    reject_media    BOOLEAN NOT NULL DEFAULT FALSE,
    reject_reports  BOOLEAN NOT NULL DEFAULT FALSE,
    private_comment TEXT,
    public_comment  TEXT,
    obfuscate       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL
);
