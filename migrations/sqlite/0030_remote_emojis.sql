-- Remote custom emojis (from incoming `Emoji` tags) kept per domain, with their ActivityPub id, a
-- cached copy of the image once the emoji proxy fetched it, and an operator's switch to hide one.
ALTER TABLE custom_emojis ADD COLUMN uri TEXT;
ALTER TABLE custom_emojis ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
-- Media-store key of the cached image (remote emojis).
ALTER TABLE custom_emojis ADD COLUMN cached_key TEXT;
ALTER TABLE custom_emojis ADD COLUMN updated_at TEXT;
