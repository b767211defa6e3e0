-- Remote accounts have no home feed here; fan-out used to add each remote author's statuses to
-- one anyway (rows nothing reads). They are removed, and fan-out no longer writes them.
DELETE FROM home_feed WHERE account_id IN (SELECT id FROM accounts WHERE domain IS NOT NULL);
