-- Read-your-writes with read replicas (`storage::replicas`): per client session (a hash of its
-- bearer token or session cookie), when it last sent a request that may have written. For a while
-- after that, its reads go to the primary. Read on the primary only, so unlogged.
CREATE UNLOGGED TABLE replica_fences (
    session BIGINT      PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL
);
