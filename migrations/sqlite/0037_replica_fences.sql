-- Read-your-writes with read replicas (`storage::replicas`): PostgreSQL only. The table exists on
-- SQLite too so both schemas hold the same tables; nothing writes it here.
CREATE TABLE replica_fences (
    session INTEGER PRIMARY KEY,
    at      TEXT    NOT NULL
);
