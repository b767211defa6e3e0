-- Instance-wide values made once and kept (the instance actor's key pair; later VAPID keys).
CREATE TABLE instance_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
