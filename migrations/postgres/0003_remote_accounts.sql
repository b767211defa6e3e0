-- Remote accounts: when their actor document was last fetched (refreshed when stale), and the
-- ActivityPub type they declared (Person, Service, Group, Application…).
ALTER TABLE accounts ADD COLUMN fetched_at TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN actor_type TEXT NOT NULL DEFAULT 'Person';
