-- Only boosts have reblog_of_id. As a full index, statuses_reblog_of matched "reblog_of_id IS NULL"
-- in every public feed query, and SQLite 3.50's planner chose to search it (every original post)
-- and sort, instead of reading a feed index in ID order: the local shorts feed over 50,000 shorts
-- took seconds. Partial, it serves "which statuses boost X" and nothing else.
DROP INDEX statuses_reblog_of;
CREATE INDEX statuses_reblog_of ON statuses (reblog_of_id, account_id) WHERE reblog_of_id IS NOT NULL;
