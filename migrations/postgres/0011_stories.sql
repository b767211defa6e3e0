-- Stories: a photo or short video shown to followers for 24 hours (docs/API.md, Stories).
CREATE TABLE stories (
    id            BIGINT PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- ActivityPub id; local stories live at https://DOMAIN/stories/USERNAME/ID.
    uri           TEXT NOT NULL UNIQUE,
    media_id      BIGINT NOT NULL REFERENCES media_attachments (id) ON DELETE CASCADE,
    -- Seconds the story is shown.
    duration      BIGINT NOT NULL,
    can_reply     BOOLEAN NOT NULL,
    can_react     BOOLEAN NOT NULL,
    -- Local stories: the capability a follower's server fetches the story with (Pixelfed's
    -- bearcap, sent in the Add to followers only).
    bearer_token  TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX stories_account ON stories (account_id, expires_at);
CREATE INDEX stories_expiry ON stories (expires_at);

-- Who saw a story, and when (the author's viewer list).
CREATE TABLE story_views (
    story_id   BIGINT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    viewed_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (story_id, account_id)
);
CREATE INDEX story_views_account ON story_views (account_id);

-- A story reply is a direct status; it remembers the story it answers.
ALTER TABLE statuses ADD COLUMN in_reply_to_story_id BIGINT REFERENCES stories (id) ON DELETE SET NULL;

-- story_reply and story_reaction notifications point at the story; a reaction carries its emoji.
ALTER TABLE notifications ADD COLUMN story_id BIGINT REFERENCES stories (id) ON DELETE CASCADE;
ALTER TABLE notifications ADD COLUMN emoji TEXT;
DROP INDEX notifications_dedupe;
CREATE UNIQUE INDEX notifications_dedupe ON notifications
    (account_id, from_account_id, type, coalesce(status_id, 0), coalesce(story_id, 0));
