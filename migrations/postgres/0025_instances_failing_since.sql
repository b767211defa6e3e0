-- A server is unreachable once it has failed for a long time without a single success
-- (federation.unreachable_after_hours), not after a number of failures: failing_since is when its
-- current run of failures began. Marks made by the old count rule are lifted; the time rule
-- decides again from the next failure.
ALTER TABLE instances ADD COLUMN failing_since TIMESTAMPTZ;
UPDATE instances SET failing_since = last_failure_at WHERE failures > 0;
UPDATE instances SET unreachable_since = NULL;
