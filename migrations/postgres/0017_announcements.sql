-- Announcements (docs.joinmastodon.org/methods/announcements/): notices from the server's admins,
-- shown in apps until they end; each user can dismiss them and react with emojis.
CREATE TABLE announcements (
    id           BIGINT PRIMARY KEY,
    -- As the admin typed it, and as HTML.
    text         TEXT NOT NULL,
    content      TEXT NOT NULL,
    starts_at    TIMESTAMPTZ,
    ends_at      TIMESTAMPTZ,
    all_day      BOOLEAN NOT NULL DEFAULT FALSE,
    published_at TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE announcement_reads (
    announcement_id BIGINT NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (announcement_id, account_id)
);

-- `name`: a Unicode emoji or the shortcode of a local custom emoji.
CREATE TABLE announcement_reactions (
    announcement_id BIGINT NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (announcement_id, account_id, name)
);
