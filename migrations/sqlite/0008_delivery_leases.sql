-- A worker claims due deliveries until this time; another worker (another node) skips them. A
-- crashed worker's claims lapse.
ALTER TABLE deliveries ADD COLUMN leased_until TEXT;
